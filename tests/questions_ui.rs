//! questions-ui.yml, the settings form Rancher's UI shows, must offer every settings key the
//! policy accepts, nested ones included, and nothing it refuses.
//!
//! The keys are not listed here: they are discovered from the settings types themselves, by
//! asking the policy's settings parser about a key no type has. Serde's unknown-field error names
//! every field the type at that place accepts, so a key added to any settings type later shows up
//! here, and this test fails until questions-ui.yml offers it.

use security_context_policy::settings::Settings;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::Path;

const PROBE: &str = "zz-probe-key";

/// One step from the settings root: a field, and whether its value is a list of objects.
#[derive(Clone)]
struct Step {
    field: String,
    list: bool,
}

/// A settings document with `{PROBE: 1}` at the end of `path`.
fn probe_document(path: &[Step]) -> Value {
    let mut value = json!({ PROBE: 1 });
    for step in path.iter().rev() {
        if step.list {
            value = json!([value]);
        }
        let mut map = Map::new();
        map.insert(step.field.clone(), value);
        value = Value::Object(map);
    }
    value
}

/// The fields of the object type at `path`, or `None` when no object is read there.
fn fields_at(path: &[Step]) -> Option<Vec<String>> {
    let error = Settings::from_value(&probe_document(path)).err()?;
    let marker = format!("unknown field `{PROBE}`");
    let rest = &error[error.find(&marker)? + marker.len()..];
    // `expected one of `a`, `b``, `expected `a` or `b``, `expected `a``, `there are no fields`
    Some(
        rest.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect(),
    )
}

/// `runAsUser.ranges[].min`-style names of every key the settings accept below `path`.
fn discover(path: &mut Vec<Step>, out: &mut BTreeSet<String>) {
    let Some(fields) = fields_at(path) else {
        return;
    };
    for field in fields {
        let mut name = String::new();
        for step in path.iter() {
            name.push_str(&step.field);
            name.push_str(if step.list { "[]." } else { "." });
        }
        name.push_str(&field);
        out.insert(name);
        for list in [false, true] {
            path.push(Step {
                field: field.clone(),
                list,
            });
            discover(path, out);
            path.pop();
        }
    }
}

fn settings_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    discover(&mut Vec::new(), &mut keys);
    keys
}

fn questions() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions-ui.yml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The same names for the questions: `subquestions` carry full dotted variables (Rancher's
/// convention), `sequence_questions` variables relative to their list.
fn collect_variables(questions: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    for q in questions.as_array().expect("a list of questions") {
        let variable = q["variable"]
            .as_str()
            .expect("every question has a variable");
        let name = if prefix.is_empty() || variable.contains('.') {
            variable.to_string()
        } else {
            format!("{prefix}{variable}")
        };
        out.push((name.clone(), q.clone()));
        if let Some(sub) = q.get("subquestions") {
            assert_eq!(q["type"], "map[", "{name}: subquestions need type map[");
            collect_variables(sub, "", out);
        }
        if let Some(seq) = q.get("sequence_questions") {
            assert_eq!(
                q["type"], "sequence[",
                "{name}: sequence_questions need sequence["
            );
            collect_variables(seq, &format!("{name}[]."), out);
        }
    }
}

fn question_variables() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    collect_variables(&questions()["questions"], "", &mut out);
    out
}

#[test]
fn discovery_finds_nested_keys_of_every_shape() {
    // The mechanism itself: a plain key, a key of a nested object, of a list of objects, and of a
    // list inside a nested object.
    let keys = settings_keys();
    for key in [
        "level",
        "warn.level",
        "exemptions[].checks",
        "runAsUser.ranges[].min",
        "capabilities.requiredDrop",
    ] {
        assert!(keys.contains(key), "{key} not discovered in {keys:?}");
    }
    assert!(!keys.iter().any(|k| k.contains(PROBE)));
}

#[test]
fn questions_ui_offers_every_settings_key_and_nothing_else() {
    let keys = settings_keys();
    let mut offered = BTreeSet::new();
    for (name, _) in question_variables() {
        assert!(offered.insert(name.clone()), "{name} is asked twice");
    }
    let missing: Vec<_> = keys.difference(&offered).collect();
    let unknown: Vec<_> = offered.difference(&keys).collect();
    assert!(
        missing.is_empty(),
        "questions-ui.yml lacks settings keys {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "questions-ui.yml asks for keys the policy refuses: {unknown:?}"
    );
}

#[test]
fn every_question_is_explained_and_typed() {
    let types = [
        "string",
        "enum",
        "boolean",
        "int",
        "map[",
        "sequence[",
        "array[",
    ];
    for (name, q) in question_variables() {
        let help = q["description"].as_str().or(q["tooltip"].as_str());
        assert!(
            help.is_some_and(|h| h.len() > 10),
            "{name} has no help text"
        );
        assert!(q["label"].is_string(), "{name} has no label");
        let ty = q["type"].as_str().unwrap_or("");
        assert!(types.contains(&ty), "{name}: unknown type {ty:?}");
        if ty == "enum" {
            let options = q["options"].as_array().expect("enum options");
            assert!(
                options.contains(&q["default"]),
                "{name}: default not an option"
            );
        }
    }
}

#[test]
fn every_enum_option_is_accepted_by_the_settings() {
    for (name, q) in question_variables() {
        if q["type"] != "enum" || name.contains("[]") {
            continue;
        }
        // `warn.level` -> {"warn": {"level": option}}; other keys of the object take defaults
        // that make the document valid where one is needed.
        for option in q["options"].as_array().unwrap() {
            let doc = match name.split_once('.') {
                None => json!({ name.clone(): option }),
                Some((outer, inner)) => {
                    let mut object = json!({ inner: option });
                    if inner == "rule" && (option == "MustRunAs" || option == "MayRunAs") {
                        object["ranges"] = json!([{"min": 1000, "max": 2000}]);
                    }
                    json!({ outer: object })
                }
            };
            assert!(
                Settings::from_value(&doc).is_ok(),
                "{name}: option {option} refused: {doc}"
            );
        }
    }
}

#[test]
fn the_top_level_defaults_are_the_policys_defaults() {
    // A document of every top-level default that is not null is valid and means what no
    // settings at all mean.
    let mut doc = Map::new();
    for q in questions()["questions"].as_array().unwrap() {
        if !q["default"].is_null() {
            let value: Value = serde_json::to_value(&q["default"]).unwrap();
            doc.insert(q["variable"].as_str().unwrap().to_string(), value);
        }
    }
    let from_form = Settings::from_value(&Value::Object(doc)).unwrap();
    let none = Settings::default();
    assert_eq!(from_form.level, none.level);
    assert_eq!(from_form.version, none.version);
    assert_eq!(from_form.mutate, none.mutate);
    assert_eq!(from_form.judge_every_update, none.judge_every_update);
    assert!(from_form.exemptions.is_empty());
    assert!(from_form.warn.is_none());
    assert_eq!(from_form.constraints.read_only_root_filesystem, Some(false));
}
