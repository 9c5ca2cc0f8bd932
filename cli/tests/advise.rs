//! `security-context-policy advise` on real install manifests: the advised settings admit every
//! workload through the compiled module, every exemption, rule and value in them is needed, a
//! workload changed in what pins it is rejected, namespace levels are the strictest, fixes fix,
//! and the input's order changes nothing.

use serde_json::{json, Value};

mod support;

use support::{create_request, json_of, module, root, tool};

/// Every document of the manifests, in order.
fn documents() -> Vec<Value> {
    support::REAL_MANIFESTS
        .iter()
        .flat_map(|file| support::documents(&support::manifests().join(file)))
        .collect()
}

/// The objects as one stream on standard input.
fn stream(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn advise_json(objects: &[Value], extra: &[&str]) -> Value {
    let mut args = vec!["advise", "--format", "json"];
    args.extend(extra);
    args.push("-");
    let output = tool(&args, Some(&stream(objects)));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_of(&output)
}

fn request(object: &Value) -> Value {
    create_request(object, "default").expect("a workload")
}

fn workloads(objects: &[Value]) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| create_request(o, "default").is_some())
        .cloned()
        .collect()
}

/// Whether the compiled module admits `object` with `settings`.
fn admitted(policy: &policy_runner::Policy, settings: &Value, object: &Value) -> bool {
    policy
        .validate(&request(object).to_string(), &settings.to_string())
        .unwrap()
        .accepted
}

/// The workloads `settings` reject.
fn rejected<'a>(
    policy: &policy_runner::Policy,
    settings: &Value,
    objects: &'a [Value],
) -> Vec<&'a str> {
    objects
        .iter()
        .filter(|o| !admitted(policy, settings, o))
        .map(|o| o["metadata"]["name"].as_str().unwrap_or_default())
        .collect()
}

#[test]
fn the_advised_settings_admit_everything_and_each_part_is_needed() {
    let objects = documents();
    let workloads = workloads(&objects);
    assert_eq!(workloads.len(), 17);
    let advice = advise_json(&objects, &[]);
    let settings = advice["settings"].clone();
    assert_eq!(settings["level"], "restricted");
    let policy = module().instantiate().unwrap();
    assert!(
        policy
            .validate_settings(&settings.to_string())
            .unwrap()
            .valid
    );
    assert_eq!(rejected(&policy, &settings, &workloads), Vec::<&str>::new());
    // Without them, restricted rejects most of these workloads: the exemptions do the work.
    let bare = json!({"level": "restricted", "version": "latest"});
    assert_eq!(rejected(&policy, &bare, &workloads).len(), 16);

    let exemptions = settings["exemptions"].as_array().unwrap().clone();
    assert!(!exemptions.is_empty());
    for (i, exemption) in exemptions.iter().enumerate() {
        // The exemption itself.
        let mut without = settings.clone();
        without["exemptions"].as_array_mut().unwrap().remove(i);
        assert!(
            !rejected(&policy, &without, &workloads).is_empty(),
            "exemptions[{i}] is not needed: {exemption}"
        );
        // Each of its rules.
        let checks = exemption["checks"].as_array().unwrap();
        for (c, check) in checks.iter().enumerate() {
            if checks.len() == 1 {
                break;
            }
            let mut fewer = settings.clone();
            fewer["exemptions"][i]["checks"]
                .as_array_mut()
                .unwrap()
                .remove(c);
            assert!(
                !rejected(&policy, &fewer, &workloads).is_empty(),
                "exemptions[{i}] does not need {check}"
            );
        }
        // Each of its values.
        if let Some(values) = exemption["values"].as_object() {
            for (field, list) in values {
                for (v, value) in list.as_array().unwrap().iter().enumerate() {
                    let mut fewer = settings.clone();
                    let list = fewer["exemptions"][i]["values"][field]
                        .as_array_mut()
                        .unwrap();
                    list.remove(v);
                    if list.is_empty() {
                        fewer["exemptions"][i]["values"]
                            .as_object_mut()
                            .unwrap()
                            .remove(field);
                    }
                    if fewer["exemptions"][i]["values"]
                        .as_object()
                        .unwrap()
                        .is_empty()
                    {
                        fewer["exemptions"][i]
                            .as_object_mut()
                            .unwrap()
                            .remove("values");
                        // Without any value, the exemption would exempt whole rules: broader,
                        // not narrower; removing the exemption was tested above.
                        continue;
                    }
                    assert!(
                        !rejected(&policy, &fewer, &workloads).is_empty(),
                        "exemptions[{i}] does not need {field}: {value}"
                    );
                }
            }
        }
    }
    // Value-level exemptions are used where they suffice.
    assert!(
        exemptions.iter().any(|e| e.get("values").is_some()),
        "{exemptions:#?}"
    );
}

/// `object` with its pod template's spec changed by `edit`.
fn edited(object: &Value, edit: impl Fn(&mut Value)) -> Value {
    let mut object = object.clone();
    let spec = match object["kind"].as_str().unwrap() {
        "Pod" => &mut object["spec"],
        "CronJob" => &mut object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &mut object["spec"]["template"]["spec"],
    };
    edit(spec);
    object
}

#[test]
fn a_workload_changed_in_what_pins_its_exemption_is_rejected() {
    let objects = documents();
    let workloads = workloads(&objects);
    let advice = advise_json(&objects, &[]);
    let settings = advice["settings"].clone();
    let policy = module().instantiate().unwrap();
    let mut probes = 0;
    for w in workloads
        .iter()
        .filter(|w| !admitted(&policy, &json!({"level": "restricted"}), w))
    {
        let variants: Vec<(&str, Value)> = vec![
            (
                "a new image",
                edited(w, |spec| {
                    for list in ["containers", "initContainers"] {
                        if let Some(cs) = spec[list].as_array_mut() {
                            for c in cs {
                                c["image"] = json!("example.com/new/image:1");
                            }
                        }
                    }
                }),
            ),
            (
                "a renamed container",
                edited(w, |spec| {
                    for list in ["containers", "initContainers"] {
                        if let Some(cs) = spec[list].as_array_mut() {
                            for c in cs {
                                let name = format!("{}-renamed", c["name"].as_str().unwrap());
                                c["name"] = json!(name);
                            }
                        }
                    }
                }),
            ),
            (
                "another service account",
                edited(w, |spec| {
                    spec["serviceAccountName"] = json!("someone-else");
                }),
            ),
            ("another namespace", {
                let mut moved = w.clone();
                moved["metadata"]["namespace"] = json!("elsewhere");
                moved
            }),
        ];
        for (what, variant) in variants {
            assert!(
                !admitted(&policy, &settings, &variant),
                "{} {} with {what} is still admitted",
                w["kind"],
                w["metadata"]["name"]
            );
            probes += 1;
        }
    }
    assert_eq!(
        probes, 64,
        "four probes for each of the 16 workloads that need exemptions"
    );
}

#[test]
fn namespace_levels_are_the_strictest_their_workloads_pass() {
    let objects = documents();
    let workloads = workloads(&objects);
    let advice = advise_json(&objects, &[]);
    let policy = module().instantiate().unwrap();
    let namespaces = advice["namespaces"].as_object().unwrap();
    assert_eq!(namespaces["kube-flannel"]["level"], "privileged");
    assert_eq!(namespaces["shop"]["level"], "baseline");
    for (ns, entry) in namespaces {
        let in_ns: Vec<Value> = workloads
            .iter()
            .filter(|w| w["metadata"]["namespace"].as_str().unwrap_or("default") == ns)
            .cloned()
            .collect();
        let level = entry["level"].as_str().unwrap();
        let at = |level: &str| json!({"level": level, "version": "latest"});
        assert!(
            rejected(&policy, &at(level), &in_ns).is_empty(),
            "{ns} passes {level}"
        );
        if let Some(next) = entry["nextLevel"].as_str() {
            let blocked = rejected(&policy, &at(next), &in_ns);
            assert!(!blocked.is_empty(), "{ns} would pass {next}");
            let blockers: Vec<&str> = entry["blockers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["name"].as_str().unwrap())
                .collect();
            let mut blocked = blocked;
            blocked.sort();
            let mut blockers = blockers;
            blockers.sort();
            assert_eq!(
                blockers, blocked,
                "{ns}: the blockers are the workloads that fail {next}"
            );
        }
    }
}

#[test]
fn fixes_make_their_workloads_pass_without_an_exemption() {
    let objects = documents();
    let advice = advise_json(&objects, &[]);
    let policy = module().instantiate().unwrap();
    let restricted = json!({"level": "restricted", "version": "latest"});
    let mut fixed = 0;
    for w in advice["workloads"].as_array().unwrap() {
        let original = objects
            .iter()
            .find(|o| o["kind"] == w["kind"] && o["metadata"]["name"] == w["name"])
            .unwrap();
        match (&w["fix"], &w["reason"]) {
            (Value::Array(_), _) => {
                let patch: json_patch::Patch = serde_json::from_value(w["fix"].clone()).unwrap();
                let mut object = original.clone();
                json_patch::patch(&mut object, &patch).unwrap();
                assert!(
                    admitted(&policy, &restricted, &object),
                    "{} fixed",
                    w["name"]
                );
                assert!(!admitted(&policy, &restricted, original));
                fixed += 1;
            }
            (Value::Null, Value::String(reason)) => {
                assert!(reason.contains("no default"), "{reason}");
                assert!(!w["violations"].as_array().unwrap().is_empty());
            }
            (Value::Null, Value::Null) => {
                assert!(w["violations"].as_array().unwrap().is_empty(), "{w}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        fixed >= 10,
        "most of these workloads fail only on what defaults set: {fixed}"
    );
}

#[test]
fn the_input_order_changes_nothing() {
    let objects = documents();
    let forward = advise_json(&objects, &[]);
    let mut reversed_objects = objects.clone();
    reversed_objects.reverse();
    let reversed = advise_json(&reversed_objects, &[]);
    assert_eq!(forward["settings"], reversed["settings"]);
    assert_eq!(forward["namespaces"], reversed["namespaces"]);
    let strip = |advice: &Value| -> Vec<Value> {
        advice["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let mut w = w.clone();
                w.as_object_mut().unwrap().remove("line");
                w
            })
            .collect()
    };
    assert_eq!(strip(&forward), strip(&reversed));
}

#[test]
fn a_list_with_controllers_and_their_pods_reports_each_workload_once() {
    let container =
        json!([{"name": "app", "image": "example/app:1", "securityContext": {"privileged": true}}]);
    let owner = |kind: &str, name: &str| json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": format!("uid-{name}"), "controller": true}]);
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web"},
         "spec": {"template": {"spec": {"containers": container}}}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": "web-5d9", "namespace": "shop", "uid": "uid-web-5d9", "ownerReferences": owner("Deployment", "web")},
         "spec": {"template": {"spec": {"containers": container}}}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "web-5d9-x", "namespace": "shop", "uid": "uid-pod-x", "ownerReferences": owner("ReplicaSet", "web-5d9")},
         "spec": {"containers": container}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "web-5d9-y", "namespace": "shop", "uid": "uid-pod-y", "ownerReferences": owner("ReplicaSet", "web-5d9")},
         "spec": {"containers": container}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "orphan-abc", "namespace": "shop", "uid": "uid-orphan", "ownerReferences": owner("ReplicaSet", "gone-123")},
         "spec": {"containers": container}},
        {"apiVersion": "batch/v1", "kind": "CronJob",
         "metadata": {"name": "nightly", "namespace": "shop", "uid": "uid-nightly"},
         "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": container}}}}}},
        {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": {"name": "nightly-1", "namespace": "shop", "uid": "uid-nightly-1",
                      "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": "uid-nightly", "controller": true}]},
         "spec": {"template": {"spec": {"containers": container}}}}
    ]});
    let output = tool(
        &["advise", "--format", "json", "-"],
        Some(&serde_json::to_string_pretty(&list).unwrap()),
    );
    let advice = json_of(&output);
    let mut reported: Vec<String> = advice["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{}/{}",
                w["kind"].as_str().unwrap(),
                w["name"].as_str().unwrap()
            )
        })
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        ["CronJob/nightly", "Deployment/web", "Pod/orphan-abc"]
    );
}

#[test]
fn check_accepts_the_advised_policy_unchanged_and_passes_the_input() {
    let dir = root().join("target/tmp/cli-tests/advise-round-trip");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let manifests = root().join("test_data/manifests");
    for extra in [
        &[][..],
        &["--level", "baseline"][..],
        &["--constraints"][..],
    ] {
        let mut args = vec!["advise"];
        args.extend(extra);
        args.push(manifests.to_str().unwrap());
        let advised = tool(&args, None);
        assert_eq!(
            advised.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&advised.stderr)
        );
        let policy = dir.join("policy.yaml");
        std::fs::write(&policy, &advised.stdout).unwrap();
        let checked = tool(
            &[
                "check",
                "--format",
                "json",
                "--policy",
                policy.to_str().unwrap(),
                manifests.to_str().unwrap(),
            ],
            None,
        );
        let report = json_of(&checked);
        assert_eq!(
            checked.status.code(),
            Some(0),
            "{extra:?}: {}",
            report["summary"]
        );
        assert_eq!(report["summary"]["admitted"], 17, "{extra:?}");
    }
}

#[test]
fn an_object_the_policy_cannot_read_is_named_with_its_file_and_line() {
    let dir = root().join("target/advise-unreadable");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("two.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n",
    )
    .unwrap();
    let output = tool(&["advise", path.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let err = support::stderr(&output);
    assert!(
        err.contains(&format!(
            "{}:5: Deployment shop/web: cannot read spec",
            path.display()
        )),
        "{err}"
    );
}
