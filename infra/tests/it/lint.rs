//! The synthesized templates judged by independent tools: the official
//! CloudFormation resource schemas (shipped with cfn-lint), cfn-lint itself,
//! and checkov. The pinned tools live in the virtualenv `testkit` manages.

use std::path::{Path, PathBuf};
use std::process::Command;

use expect_test::expect_file;
use infra::{Architecture, Mfa, Settings, StackName, Template, Throttle};
use serde_json::{Map, Value, json};

/// Every template we ship: the default stack, the stack with MFA on, the
/// stack with every option turned on, and the artifacts stack.
fn templates() -> Vec<(&'static str, Template)> {
    let default = Settings::new(StackName::new("demo").unwrap());
    let mut mfa = default.clone();
    mfa.mfa = Mfa::Required;
    let mut everything = mfa.clone();
    everything.api_access_logs = true;
    everything.architecture = Architecture::Arm64;
    everything.auth_throttle = Throttle::new(0.5, 1).unwrap();
    vec![
        ("sign-in", infra::sign_in_stack(&default)),
        ("sign-in-mfa", infra::sign_in_stack(&mfa)),
        ("sign-in-all-options", infra::sign_in_stack(&everything)),
        ("artifacts", infra::artifacts_stack()),
    ]
}

fn written_templates() -> Vec<(&'static str, PathBuf, Template)> {
    let dir = testkit::target_dir().join("lint");
    std::fs::create_dir_all(&dir).unwrap();
    templates()
        .into_iter()
        .map(|(name, template)| {
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, template.to_json().unwrap()).unwrap();
            (name, path, template)
        })
        .collect()
}

fn site_packages() -> PathBuf {
    let venv = testkit::ensure_venv().unwrap();
    let lib = venv.join("lib");
    let python = std::fs::read_dir(&lib)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("python")
        })
        .expect("a python folder in the virtualenv");
    python.join("site-packages")
}

fn run(program: &Path, args: &[&str], file: &Path) -> (i32, String) {
    let output = Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()));
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn cfn_lint_finds_nothing() {
    testkit::ensure_venv().unwrap();
    for (name, path, _) in written_templates() {
        let (code, text) = run(
            &testkit::venv_bin("cfn-lint"),
            &["--format", "parseable"],
            &path,
        );
        assert_eq!(
            (code, text.as_str()),
            (0, ""),
            "cfn-lint on the {name} template"
        );
    }
}

#[test]
fn checkov_fails_nothing_and_every_skip_is_needed_and_explained() {
    testkit::ensure_venv().unwrap();
    for (name, path, template) in written_templates() {
        // --skip-download: checkov would otherwise call its vendor's API.
        let (_, text) = run(
            &testkit::venv_bin("checkov"),
            &[
                "--framework",
                "cloudformation",
                "--skip-download",
                "--output",
                "json",
                "--file",
            ],
            &path,
        );
        let report: Value = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("checkov said something else than JSON ({err}): {text}"));
        let summary = &report["summary"];
        assert_eq!(summary["parsing_errors"], 0, "{name}: {summary}");
        let failed: Vec<String> = report["results"]["failed_checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {}: {}", c["check_id"], c["resource"], c["check_name"]))
            .collect();
        assert!(failed.is_empty(), "{name}: checkov failed {failed:#?}");
        assert!(summary["passed"].as_u64().unwrap() > 0, "{name}: {summary}");

        let mut skipped: Vec<String> = report["results"]["skipped_checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["check_id"].as_str().unwrap(),
                    c["resource"].as_str().unwrap()
                )
            })
            .collect();
        skipped.sort();
        let value = template.to_value().unwrap();
        let mut declared = Vec::new();
        for (id, resource) in value["Resources"].as_object().unwrap() {
            for skip in resource["Metadata"]["checkov"]["skip"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let reason = skip["comment"].as_str().unwrap_or_default();
                assert!(
                    reason.len() > 40,
                    "{name}: {id} skips {} without a reason",
                    skip["id"]
                );
                declared.push(format!(
                    "{} {}.{id}",
                    skip["id"].as_str().unwrap(),
                    resource["Type"].as_str().unwrap()
                ));
            }
        }
        declared.sort();
        assert_eq!(
            declared, skipped,
            "{name}: a skip checkov does not use is stale"
        );
    }
}

/// Checks every property a template sets against the official schema of
/// its resource type: it exists, has the schema's type, and no required
/// property is missing. Intrinsic functions stand for any value.
#[test]
fn every_property_is_in_the_official_schema_with_its_type_and_required_ones_are_set() {
    let schemas = Schemas::load();
    for (name, template) in templates() {
        let value = template.to_value().unwrap();
        for (id, resource) in value["Resources"].as_object().unwrap() {
            let kind = resource["Type"].as_str().unwrap();
            let schema = schemas.of(kind);
            let mut problems = Vec::new();
            check(&resource["Properties"], &schema, &schema, id, &mut problems);
            assert!(problems.is_empty(), "{name}: {kind} {problems:#?}");
        }
    }
}

#[test]
fn the_schema_check_catches_unknown_mistyped_and_missing_properties() {
    let schema = Schemas::load().of("AWS::Lambda::Function");
    let wrong = serde_json::json!({
        "Code": { "S3Bucket": { "Ref": "B" }, "S3Keys": "k" },
        "MemorySize": "large",
        "Architectures": ["x86_64"],
    });
    let mut problems = Vec::new();
    check(&wrong, &schema, &schema, "F", &mut problems);
    assert_eq!(
        problems,
        [
            "F.Code.S3Keys: not a property of the schema",
            r#"F.MemorySize: "large" is not ["integer"]"#,
            "F: required Role is missing",
        ]
    );
}

/// The properties each resource sets that CloudFormation cannot change in
/// place (its schema's `createOnlyProperties`): changing one replaces the
/// resource, with a new physical id (a new app client id, a new, empty log
/// group). A reviewed snapshot, so a property that starts or stops forcing
/// a replacement shows in review: the default stack and the artifacts stack
/// in full, the other variants where they differ from the default.
#[test]
fn the_properties_that_force_a_replacement_are_the_reviewed_ones() {
    let schemas = Schemas::load();
    let lines = |template: &Template| -> Vec<String> {
        let value = template.to_value().unwrap();
        let resources = value["Resources"].as_object().unwrap();
        resources
            .iter()
            .filter_map(|(id, resource)| {
                let kind = resource["Type"].as_str().unwrap();
                let set = create_only_set(&resource["Properties"], &schemas.of(kind));
                (!set.is_empty()).then(|| format!("  {id} ({kind}): {}\n", set.join(", ")))
            })
            .collect()
    };
    let default = lines(&infra::sign_in_stack(&Settings::new(
        StackName::new("demo").unwrap(),
    )));
    let mut report = String::new();
    for (name, template) in templates() {
        let lines = lines(&template);
        if name == "sign-in" || name == "artifacts" {
            report += &format!("{name}\n");
            report.extend(lines);
        } else {
            report += &format!("{name}, where it differs from sign-in\n");
            report.extend(lines.into_iter().filter(|line| !default.contains(line)));
        }
    }
    expect_file!["../snapshots/create-only.txt"].assert_eq(&report);
}

#[test]
fn create_only_properties_are_found_at_any_depth_and_only_when_set() {
    let schema = json!({ "createOnlyProperties": [
        "/properties/Name", "/properties/Config/Mode", "/properties/Rules/*/Id", "/properties/Unset",
    ] });
    let properties = json!({
        "Name": { "Ref": "AWS::StackName" },
        "Config": { "Other": 1 },
        "Rules": [{ "Status": "on" }, { "Id": "r1" }],
    });
    assert_eq!(
        create_only_set(&properties, &schema),
        ["Name", "Rules.*.Id"]
    );
}

/// The `createOnlyProperties` of `schema` that `properties` sets, in the
/// schema's order, as dotted paths (`*`: an item of a list).
fn create_only_set(properties: &Value, schema: &Value) -> Vec<String> {
    fn is_set(value: &Value, path: &[&str]) -> bool {
        match path.split_first() {
            None => !value.is_null(),
            Some((&"*", rest)) => value
                .as_array()
                .is_some_and(|items| items.iter().any(|item| is_set(item, rest))),
            Some((key, rest)) => value.get(key).is_some_and(|inner| is_set(inner, rest)),
        }
    }
    schema["createOnlyProperties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pointer| pointer.as_str()?.strip_prefix("/properties/"))
        .filter(|path| is_set(properties, &path.split('/').collect::<Vec<_>>()))
        .map(|path| path.replace('/', "."))
        .collect()
}

/// The official resource schemas the pinned cfn-lint ships, by type.
struct Schemas {
    dir: PathBuf,
    /// Type name to schema file, for the region every type exists in.
    index: Value,
}

impl Schemas {
    fn load() -> Self {
        let dir = site_packages().join("cfnlint/data/schemas");
        let index = read_json(&dir.join("providers/us-east-1.json"));
        Self { dir, index }
    }

    fn of(&self, kind: &str) -> Value {
        let file = self.index[kind]
            .as_str()
            .unwrap_or_else(|| panic!("{kind} is not a CloudFormation type"));
        read_json(&self.dir.join("resources").join(format!("{file}.json")))
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(pointer) => resolve(root.pointer(pointer.trim_start_matches('#')).unwrap(), root),
        None => schema,
    }
}

fn is_intrinsic(value: &Value) -> bool {
    value.as_object().is_some_and(|map| {
        map.len() == 1 && map.keys().all(|k| k == "Ref" || k.starts_with("Fn::"))
    })
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ if schema.get("properties").is_some() => vec!["object"],
        _ => vec![],
    }
}

fn check(value: &Value, schema: &Value, root: &Value, path: &str, problems: &mut Vec<String>) {
    let schema = resolve(schema, root);
    if is_intrinsic(value) {
        return;
    }
    let allowed = types(schema);
    let fits = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !allowed.is_empty() && !allowed.iter().any(|t| fits(t)) {
        problems.push(format!("{path}: {value} is not {allowed:?}"));
        return;
    }
    match value {
        Value::Object(map) => check_object(map, schema, root, path, problems),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, item_schema, root, &format!("{path}[{i}]"), problems);
                }
            }
        }
        _ => {}
    }
}

fn check_object(
    map: &Map<String, Value>,
    schema: &Value,
    root: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    let properties = schema["properties"].as_object();
    let open = schema.get("patternProperties").is_some()
        || schema["additionalProperties"] != Value::Bool(false);
    for (key, value) in map {
        match properties.and_then(|p| p.get(key)) {
            Some(property) => check(value, property, root, &format!("{path}.{key}"), problems),
            None if open => {}
            None => problems.push(format!("{path}.{key}: not a property of the schema")),
        }
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap();
        if !map.contains_key(required) {
            problems.push(format!("{path}: required {required} is missing"));
        }
    }
}
