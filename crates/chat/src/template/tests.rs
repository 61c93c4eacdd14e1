use super::*;

fn conversation() -> Vec<Message> {
    vec![
        Message::system("Be brief."),
        Message::user("Hi"),
        Message::assistant("Hello!"),
        Message::user("Bye"),
    ]
}

fn render(source: &str, messages: &[Message]) -> Result<String> {
    ChatTemplate::new(source, Some("<s>"), Some("</s>"))?.render(messages, true)
}

#[test]
fn chatml_preset_renders_turns_and_generation_prompt() {
    let t = ChatTemplate::preset("chatml").unwrap();
    let text = t.render(&conversation(), true).unwrap();
    assert_eq!(
        text,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n\
         <|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n\
         <|im_start|>assistant\n"
    );
    let without = t.render(&conversation(), false).unwrap();
    assert_eq!(format!("{without}<|im_start|>assistant\n"), text);
}

#[test]
fn presets_know_their_special_tokens() {
    let t = ChatTemplate::preset("llama-2").unwrap();
    assert_eq!((t.bos_token(), t.eos_token()), ("<s>", "</s>"));
    let text = t.render(&conversation(), true).unwrap();
    assert_eq!(
        text,
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]"
    );
    let t = ChatTemplate::preset("llama-3").unwrap();
    assert!(t
        .render(&[Message::user(" padded ")], true)
        .unwrap()
        .starts_with(
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|>"
        ));
    for name in PRESET_NAMES {
        assert_eq!(
            ChatTemplate::preset_source(name),
            Some(ChatTemplate::preset(name).unwrap().source())
        );
    }
}

#[test]
fn unknown_preset_lists_the_known_ones() {
    match ChatTemplate::preset("vicuna") {
        Err(Error::UnknownPreset { name, known }) => {
            assert_eq!(name, "vicuna");
            assert!(known.contains("chatml") && known.contains("gemma"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn raise_exception_is_an_error_with_the_templates_message() {
    let t = ChatTemplate::preset("mistral").unwrap();
    let bad = [Message::user("one"), Message::user("two")];
    match t.render(&bad, true) {
        Err(Error::Template { message, .. }) => assert_eq!(
            message,
            "Conversation roles must alternate user/assistant/user/assistant/..."
        ),
        other => panic!("{other:?}"),
    }
    let gemma = ChatTemplate::preset("gemma").unwrap();
    match gemma.render(&conversation(), true) {
        Err(Error::Template { message, .. }) => assert_eq!(message, "System role not supported"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn syntax_and_runtime_errors_are_errors() {
    assert!(matches!(
        ChatTemplate::new("{% for m in messages %}", None, None),
        Err(Error::TemplateSyntax(_))
    ));
    // Attribute access on an undefined value fails in Jinja2 too.
    match render("{{ nothing.here }}", &[]) {
        Err(Error::Template { message, .. }) => assert!(message.contains("undefined"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Indexing past the end of an empty conversation is undefined, not a panic.
    assert_eq!(render("{{ messages[0]['role'] }}", &[]).ok(), None);
}

#[test]
fn trim_and_lstrip_blocks_as_transformers_sets_them() {
    let source = "{% for m in messages %}\n    {% if m.role == 'user' %}\n{{ m.content }}\n    {% endif %}\n{% endfor %}\n";
    // Block lines vanish entirely; the final newline of the template is dropped.
    assert_eq!(render(source, &conversation()).unwrap(), "Hi\nBye\n");
}

// Booleans print as Python's `True`/`False`, as in Jinja2.
#[test]
fn python_string_methods_and_loop_controls_work() {
    let source = "{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}\
                  {{ m.role.upper() }}:{{ m.content.strip().replace('!', '?') }}|\
                  {{ m.content.startswith('H') }};{% endfor %}";
    let msgs = [
        Message::user("  Hi!  "),
        Message::assistant("Hello!"),
        Message::user("never shown"),
    ];
    assert_eq!(
        render(source, &msgs).unwrap(),
        "USER:Hi?|False;ASSISTANT:Hello?|True;"
    );
}

#[test]
fn namespace_and_slicing_work() {
    let source = "{% set ns = namespace(n=0) %}{% for m in messages[1:] %}\
                  {% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }} {{ messages[-1].content }}";
    assert_eq!(render(source, &conversation()).unwrap(), "3 Bye");
}

#[test]
fn tojson_writes_what_json_dumps_writes() {
    let source = "{{ messages[0] | tojson }} {{ messages[0] | tojson(indent=2) }} \
                  {{ {'b': 1, 'a': [1.5, none]} | tojson(sort_keys=true) }}";
    let msgs = [Message::user("<b>\"Göteborg\"</b>\n")];
    assert_eq!(
        render(source, &msgs).unwrap(),
        "{\"role\": \"user\", \"content\": \"<b>\\\"Göteborg\\\"</b>\\n\"} \
         {\n  \"role\": \"user\",\n  \"content\": \"<b>\\\"Göteborg\\\"</b>\\n\"\n} \
         {\"a\": [1.5, null], \"b\": 1}"
    );
    assert!(matches!(
        render("{{ 1 | tojson(bogus=1) }}", &[]),
        Err(Error::Template { .. })
    ));
}

#[test]
fn strftime_now_formats_the_current_date() {
    let text = render("{{ strftime_now('%Y-%m-%d') }}", &[]).unwrap();
    let (y, md) = text.split_once('-').unwrap();
    assert!(y.parse::<i32>().unwrap() >= 2024, "{text}");
    assert_eq!(md.len(), 5, "{text}");
}

#[test]
fn tools_and_documents_are_none_and_extras_are_visible() {
    let source =
        "{{ tools is none }} {{ documents is none }} {{ date_string | default('unset') }} \
                  {{ bos_token }}";
    let t = ChatTemplate::new(source, None, None).unwrap();
    assert_eq!(t.render(&[], false).unwrap(), "True True unset ");
    let extra = serde_json::json!({"date_string": "26 Jul 2024", "bos_token": "<B>"});
    assert_eq!(
        t.render_with(&[], false, &extra).unwrap(),
        "True True 26 Jul 2024 <B>"
    );
    assert!(matches!(
        t.render_with(&[], false, "not a map"),
        Err(Error::BadContext(_))
    ));
}

#[test]
fn generation_tags_render_their_body() {
    let source = "{% for m in messages %}{% if m.role == 'assistant' %}\
                  {%- generation -%} [{{ m.content }}] {%- endgeneration -%}\
                  {% else %}{{ m.content }}{% endif %}{% endfor %}";
    assert_eq!(
        render(source, &conversation()).unwrap(),
        "Be brief.Hi[Hello!]Bye"
    );
    assert_eq!(
        rewrite_generation_tags("a{%- generation %}b{% endgeneration -%}c{% if x %}"),
        "a{%- if true %}b{% endif -%}c{% if x %}"
    );
    assert!(matches!(
        rewrite_generation_tags("no tags"),
        Cow::Borrowed(_)
    ));
}

#[test]
fn messages_round_trip_through_json() {
    let m = Message::user("hej");
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(json, r#"{"role":"user","content":"hej"}"#);
    assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), m);
}

#[test]
fn templates_are_shareable() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug>() {}
    check::<ChatTemplate>();
}
