//! Tool requests checked as OpenAI defines them, and calls read back per family.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

fn weather() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

fn tools(choice: Value) -> Tools {
    Tools::parse(Some(&weather()), Some(&choice), None)
        .unwrap()
        .unwrap()
}

#[test]
fn tool_requests_are_checked_and_name_the_field() {
    let named = json!({"type": "function", "function": {"name": "get_weather"}});
    assert_eq!(tools(named).choice, ToolChoice::Named("get_weather".into()));
    assert_eq!(tools(json!("required")).choice, ToolChoice::Required);
    assert!(tools(json!("auto")).parallel);
    let cases = [
        (json!({"a": 1}), json!("auto"), "tools"),
        (json!([{"type": "retrieval"}]), json!("auto"), "tools"),
        (json!([{"type": "function"}]), json!("auto"), "tools"),
        (
            json!([{"type": "function", "function": {"name": "has space"}}]),
            json!("auto"),
            "tools",
        ),
        (
            json!([{"type": "function", "function": {"name": "f", "parameters": 5}}]),
            json!("auto"),
            "tools",
        ),
        (weather(), json!("sometimes"), "tool_choice"),
        (
            weather(),
            json!({"type": "function", "function": {"name": "other"}}),
            "tool_choice",
        ),
        (json!([]), json!("required"), "tool_choice"),
    ];
    for (t, c, field) in cases {
        match Tools::parse(Some(&t), Some(&c), None) {
            Err(crate::Error::InvalidOption { name, .. }) => assert_eq!(name, field, "{t} {c}"),
            other => panic!("{t} {c}: {other:?}"),
        }
    }
    let huge: Vec<Value> = (0..100)
        .map(|i| json!({"type": "function", "function": {"name": format!("f{i}"), "description": "x".repeat(4000)}}))
        .collect();
    assert!(Tools::parse(Some(&Value::Array(huge)), None, None).is_err());
    assert_eq!(
        Tools::parse(None, Some(&json!("auto")), None).unwrap(),
        None
    );
}

#[test]
fn hermes_calls_are_read_and_the_rest_stays_text() {
    let t = tools(json!("auto"));
    let text = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
    let (content, calls) = ToolFormat::Hermes.parse(text, &t);
    assert_eq!(content, "Let me check.");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(calls[0].function.arguments, json!({"city": "Paris"}));
    assert!(calls[0].id.starts_with("call_") && calls[0].id.len() > 10);
    // A bare or fenced JSON call, as small models write it, is read too.
    let (content, calls) = ToolFormat::Hermes.parse(
        "```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n```",
        &t,
    );
    assert_eq!((content.as_str(), calls.len()), ("", 1));
    // Looks like a call, but is not one: an unknown tool, broken JSON.
    for text in [
        "<tool_call>\n{\"name\": \"launch\", \"arguments\": {}}\n</tool_call>",
        "<tool_call>{\"name\": \"get_weather\", \"arguments\": {</tool_call> tail",
        "I would use <tool_call> here",
        "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}} and then more words",
    ] {
        let (content, calls) = ToolFormat::Hermes.parse(text, &t);
        assert!(calls.is_empty(), "{text}");
        assert_eq!(content, text.trim());
    }
}

#[test]
fn each_family_writes_calls_its_own_way() {
    let t = tools(json!("auto"));
    let (c, calls) = ToolFormat::Mistral.parse(
        "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}]",
        &t,
    );
    assert_eq!((c.as_str(), calls.len()), ("", 1));
    let (c, calls) = ToolFormat::Llama3.parse(
        "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}",
        &t,
    );
    assert_eq!(
        (c.as_str(), calls[0].function.arguments["city"].as_str()),
        ("", Some("Rome"))
    );
    let (c, calls) = ToolFormat::Generic.parse(
        "{\"tool_calls\": [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}}]}",
        &t,
    );
    assert_eq!((c.as_str(), calls.len()), ("", 1));
    let (c, calls) = ToolFormat::Generic.parse("{\"response\": \"Hello!\"}", &t);
    assert_eq!((c.as_str(), calls.len()), ("Hello!", 0));
    let (c, calls) = ToolFormat::Generic.parse("plain words", &t);
    assert_eq!((c.as_str(), calls.len()), ("plain words", 0));
}

#[test]
fn formats_are_chosen_from_the_template() {
    assert_eq!(
        ToolFormat::detect(Some("{{ '<tool_call>' }}")),
        ToolFormat::Hermes
    );
    assert_eq!(
        ToolFormat::detect(Some("[TOOL_CALLS] {{ x }}")),
        ToolFormat::Mistral
    );
    assert_eq!(
        ToolFormat::detect(Some("{{ messages }}")),
        ToolFormat::Generic
    );
    assert_eq!(ToolFormat::detect(None), ToolFormat::Generic);
    let t = tools(json!("auto"));
    assert!(ToolFormat::Generic
        .system_note(&t)
        .unwrap()
        .contains("get_weather"));
    assert!(ToolFormat::Hermes.system_note(&t).is_none());
}
