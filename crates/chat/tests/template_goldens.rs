//! The presets and real model templates rendered against transformers' output
//! (fixtures/chat/template_goldens.json, made by scripts/chat_make_template_goldens.py).

use std::path::{Path, PathBuf};

use minijinja::Value;
use samtal_chat::{ChatTemplate, Error, Message};
use serde::Deserialize;

#[derive(Deserialize)]
struct Goldens {
    templates: Vec<Template>,
}

#[derive(Deserialize)]
struct Template {
    name: String,
    kind: String,
    bos_token: Option<String>,
    eos_token: Option<String>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    messages: Vec<Message>,
    add_generation_prompt: bool,
    extra: serde_json::Map<String, serde_json::Value>,
    text: Option<String>,
    error: Option<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/chat")
}

/// The golden script freezes Python's clock at 2024-07-26 12:00; this answers the formats the
/// fixture templates ask for on that day.
fn fixed_strftime_now(format: String) -> Result<String, minijinja::Error> {
    match format.as_str() {
        "%d %b %Y" => Ok("26 Jul 2024".to_owned()),
        "%B %d, %Y" => Ok("July 26, 2024".to_owned()),
        other => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("test clock has no answer for {other:?}"),
        )),
    }
}

#[test]
fn templates_render_as_transformers_does() {
    let path = fixtures().join("template_goldens.json");
    let goldens: Goldens =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read goldens")).expect("json");
    assert!(goldens.templates.len() >= 10);
    let mut failures = Vec::new();
    let mut checked = 0;
    for t in &goldens.templates {
        let template = match t.kind.as_str() {
            "preset" => {
                let template = ChatTemplate::preset(&t.name).expect("preset");
                assert_eq!(template.bos_token(), t.bos_token.as_deref().unwrap_or(""));
                assert_eq!(template.eos_token(), t.eos_token.as_deref().unwrap_or(""));
                template
            }
            _ => {
                let file = fixtures()
                    .join("templates")
                    .join(format!("{}.jinja", t.name));
                let source = std::fs::read_to_string(&file).expect("read template");
                match ChatTemplate::new(&source, t.bos_token.as_deref(), t.eos_token.as_deref()) {
                    Ok(template) => template,
                    Err(e) => {
                        failures.push(format!("{}: does not compile: {e}", t.name));
                        continue;
                    }
                }
            }
        };
        for (i, case) in t.cases.iter().enumerate() {
            checked += 1;
            let mut extra: Vec<(String, Value)> = case
                .extra
                .iter()
                .map(|(k, v)| (k.clone(), Value::from_serialize(v)))
                .collect();
            extra.push((
                "strftime_now".to_owned(),
                Value::from_function(fixed_strftime_now),
            ));
            let extra = Value::from_iter(extra);
            let got = template.render_with(&case.messages, case.add_generation_prompt, &extra);
            match (&case.text, &case.error, got) {
                (Some(want), _, Ok(got)) if &got == want => {}
                (_, Some(want), Err(Error::Template { message, .. })) if &message == want => {}
                (text, error, got) => failures.push(format!(
                    "{} case {i}: want {:?}\n  got {:?}",
                    t.name,
                    text.as_ref()
                        .map_or_else(|| format!("error {error:?}"), |t| t.clone()),
                    got.map_err(|e| e.to_string())
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} renders differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
