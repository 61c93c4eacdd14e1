//! The settings table: names, checks, text and JSON parsing, layering.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

#[test]
fn every_name_finds_exactly_one_setting() {
    let mut seen = std::collections::HashSet::new();
    for s in SETTINGS {
        for n in s.names() {
            assert!(
                std::ptr::eq(find(n).unwrap(), s),
                "{n} finds another setting"
            );
            if n != s.name && n != s.http {
                assert!(seen.insert(n), "alias {n} is listed twice");
            }
        }
        assert!(find(&s.flag()).is_some(), "the flag {} is found", s.flag());
    }
}

#[test]
fn the_defaults_pass_the_table() {
    check_all(&GenerateParams::default()).unwrap();
    check_all(&crate::params::GenerateParams {
        sampling: crate::SamplingParams::greedy(),
        ..GenerateParams::default()
    })
    .unwrap();
}

#[test]
fn each_setting_reads_back_what_was_set() {
    for s in SETTINGS {
        let v = match s.kind {
            Kind::Float { max, .. } => Value::Float(max),
            Kind::Int { min, .. } => Value::Int(min + 1),
            Kind::Seed => Value::Seed(Some(42)),
            Kind::Bias { .. } => Value::Bias([(3, -1.5)].into()),
            Kind::Strings { .. } => Value::Strings(vec!["END".into()]),
        };
        let mut o = Overrides::default();
        o.set(s.name, v.clone()).unwrap();
        let p = o.apply(&GenerateParams::default());
        let back = (s.get)(&p);
        match (&back, &v) {
            (Value::Float(a), Value::Float(b)) => assert!((a - b).abs() < 1e-6, "{}", s.name),
            _ => assert_eq!(back, v, "{}", s.name),
        }
    }
}

#[test]
fn out_of_range_values_name_the_setting_and_the_range() {
    let t = find("temperature").unwrap();
    let e = t.parse_text(&["3"]).unwrap_err().to_string();
    assert_eq!(e, "invalid temperature: 3 is not in [0, 2]");
    // The same words from JSON: one check for every face.
    let e2 = t.parse_json(&json!(3)).unwrap_err().to_string();
    assert_eq!(e, e2);
    let e = find("top_p").unwrap().parse_text(&["0"]).unwrap_err();
    assert_eq!(e.to_string(), "invalid top_p: 0 is not in (0, 1]");
    let e = find("max_tokens")
        .unwrap()
        .parse_json(&json!(0))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid max_new_tokens: 0 is not in [1, 1000000]"
    );
    let e = find("temperature")
        .unwrap()
        .parse_text(&["hot"])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid temperature: \"hot\" is not a valid value"
    );
    assert!(find("temperature")
        .unwrap()
        .parse_json(&json!(f64::MAX))
        .is_err());
}

#[test]
fn json_values_of_the_wrong_shape_are_refused() {
    let cases = [
        ("temperature", json!("hot")),
        ("top_k", json!(-5)),
        ("top_k", json!(1.5)),
        ("top_k", json!(-2.0)),
        ("seed", json!("abc")),
        ("seed", json!(1e40)),
        ("seed", json!(-7)),
        ("stop", json!([1, 2])),
        ("stop", json!([""])),
        ("stop", json!(vec!["x"; 17])),
        ("logit_bias", json!({"abc": 1})),
        ("logit_bias", json!({"5": 500})),
        ("logit_bias", json!([1])),
        ("max_tokens", json!(1e30)),
    ];
    for (name, v) in cases {
        let e = find(name).unwrap().parse_json(&v);
        assert!(e.is_err(), "{name} = {v} was accepted");
    }
    assert_eq!(
        find("top_k").unwrap().parse_json(&json!(20.0)).unwrap(),
        Value::Int(20)
    );
    let seed = find("seed").unwrap();
    assert_eq!(seed.parse_json(&json!(-1)).unwrap(), Value::Seed(None));
    assert_eq!(seed.parse_text(&["random"]).unwrap(), Value::Seed(None));
    assert_eq!(
        find("stop").unwrap().parse_json(&json!("END")).unwrap(),
        Value::Strings(vec!["END".into()])
    );
}

#[test]
fn text_values_of_list_settings_come_from_repeated_flags() {
    let b = find("logit_bias").unwrap();
    let v = b.parse_text(&["5=1.5", "7=-2,9=0"]).unwrap();
    assert_eq!(v, Value::Bias([(5, 1.5), (7, -2.0), (9, 0.0)].into()));
    assert!(b.parse_text(&["5"]).is_err());
    let s = find("stop").unwrap();
    assert_eq!(
        s.parse_text(&["a b", "c"]).unwrap(),
        Value::Strings(vec!["a b".into(), "c".into()])
    );
}

#[test]
fn later_layers_win() {
    let mut model = Overrides::default();
    model.set_text("temperature", &["0.2"]).unwrap();
    model.set_text("top_p", &["0.9"]).unwrap();
    let mut user = Overrides::default();
    user.set_json("temperature", &json!(0)).unwrap();
    let mut all = model.clone();
    all.extend(&user);
    let p = all.apply(&GenerateParams::default());
    assert_eq!(p.sampling.temperature, 0.0);
    assert!((p.sampling.top_p - 0.9).abs() < 1e-6);
    assert_eq!(p.sampling.top_k, GenerateParams::default().sampling.top_k);
}

#[test]
fn unknown_settings_list_the_known_ones() {
    let e = Overrides::default()
        .set_text("colour", &["blue"])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("unknown setting \"colour\""), "{e}");
    assert!(e.contains("temperature"), "{e}");
}
