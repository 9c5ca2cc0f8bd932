//! Reading pasted manifests: multi-document YAML (or JSON), `List` objects expanded.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// An object of the text, and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// 1-based position among the YAML documents; the items of a List share its number.
    pub document: usize,
    /// 1-based line of the object's first key; 0 when it could not be told.
    pub line: usize,
    pub value: Value,
}

/// The objects, each with its 1-based document number, and the first reading error.
pub fn read(text: &str) -> (Vec<(usize, Value)>, Option<String>) {
    let (objects, _, error) = read_objects(text);
    let objects = objects
        .into_iter()
        .map(|(document, _, value)| (document, value))
        .collect();
    (objects, error)
}

/// As [`read`], with the line of every object's first key.
///
/// The values are read by serde_yaml, as for [`read`], which drops positions; the lines come from
/// a scan of the text that splits documents as the YAML parser does. A line is given only when
/// it is sure to be the object's: the document counts agree and the line names one of the
/// object's keys. The items of a List get theirs where the List is JSON or a block sequence.
pub fn read_located(text: &str) -> (Vec<Located>, Option<String>) {
    let (objects, documents_read, error) = read_objects(text);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let documents = documents(&lines);
    // Past a syntax error the parser stopped, and the counts cannot be compared.
    let trusted = error.is_some() || documents.len() == documents_read;
    let document = |n: usize| documents.get(n - 1).copied().filter(|_| trusted);
    // The item lines of each List, when exactly as many as its items were found.
    let mut lists: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (n, item, _) in &objects {
        if *item != Some(0) {
            continue;
        }
        let count = objects
            .iter()
            .filter(|(m, item, _)| m == n && item.is_some())
            .count();
        if let Some(found) = document(*n)
            .and_then(|d| item_lines(&lines, d))
            .filter(|found| found.len() == count)
        {
            lists.insert(*n, found);
        }
    }
    let located = objects
        .into_iter()
        .map(|(n, item, value)| {
            let line = match item {
                None => document(n).map_or(0, |d| d.first),
                Some(i) => lists.get(&n).map_or(0, |found| found[i]),
            };
            Located {
                document: n,
                line: if starts_object(&lines, line, &value) {
                    line
                } else {
                    0
                },
                value,
            }
        })
        .collect();
    (located, error)
}

/// (document number, index among a List's items, object)
type Object = (usize, Option<usize>, Value);

/// The objects, how many documents were read, and the first reading error.
fn read_objects(text: &str) -> (Vec<Object>, usize, Option<String>) {
    let mut objects = Vec::new();
    let mut documents = 0;
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let n = i + 1;
        let value = match Value::deserialize(document) {
            Ok(v) => v,
            // The YAML parser cannot resume after a syntax error.
            Err(e) => return (objects, documents, Some(format!("document {n}: {e}"))),
        };
        documents = n;
        match value {
            Value::Null => {}
            Value::Object(ref map) if map.get("kind").and_then(Value::as_str) == Some("List") => {
                for (index, item) in map
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    objects.push((n, Some(index), item.clone()));
                }
            }
            Value::Object(ref map) if map.get("kind").is_some_and(Value::is_string) => {
                objects.push((n, None, value));
            }
            _ => {
                return (
                    objects,
                    documents,
                    Some(format!(
                        "document {n}: not a Kubernetes object (it needs apiVersion and kind)"
                    )),
                )
            }
        }
    }
    (objects, documents, None)
}

/// Where a document of the text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DocumentLines {
    /// 1-based line of the document's first content; 0 for a document with none.
    first: usize,
    /// 0-based index of the line after its last.
    end: usize,
}

/// Whether `line` is the marker `marker` (`---` or `...`), alone or followed by a space.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Whether a line holds content: neither blank nor a comment.
fn has_content(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && !line.starts_with('#')
}

/// The documents of a text, split as the YAML parser splits them: a new document at each `---`
/// marker at column 0, and at content after a `...` marker (a `%` line before a document is a
/// directive).
fn documents(lines: &[&str]) -> Vec<DocumentLines> {
    let mut documents: Vec<DocumentLines> = Vec::new();
    let mut open = false;
    for (i, line) in lines.iter().enumerate() {
        if is_marker(line, "---") {
            if let Some(last) = documents.last_mut() {
                last.end = i;
            }
            documents.push(DocumentLines {
                first: if has_content(&line[3..]) { i + 1 } else { 0 },
                end: lines.len(),
            });
            open = true;
        } else if is_marker(line, "...") {
            if let Some(last) = documents.last_mut() {
                last.end = i;
            }
            open = false;
        } else if has_content(line) && (open || !line.starts_with('%')) {
            if !open {
                documents.push(DocumentLines {
                    first: 0,
                    end: lines.len(),
                });
                open = true;
            }
            let last = documents.last_mut().expect("a document is open");
            if last.first == 0 {
                last.first = i + 1;
            }
        }
    }
    // A text without a document reads as one empty document.
    if documents.is_empty() {
        documents.push(DocumentLines {
            first: 0,
            end: lines.len(),
        });
    }
    documents
}

/// Whether the line at `first` (1-based) is where `object` starts: a key of it, or `{`.
fn starts_object(lines: &[&str], first: usize, object: &Value) -> bool {
    let Some(line) = first.checked_sub(1).and_then(|i| lines.get(i)) else {
        return false;
    };
    // A document's first line may carry the `---` marker, a List item's the `- ` of its entry.
    let line = line.strip_prefix("---").unwrap_or(line).trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line).trim_start();
    if line.starts_with('{') {
        return true;
    }
    let key = line.split(':').next().unwrap_or_default().trim();
    let key = key.trim_matches(|c| c == '"' || c == '\'');
    object.get(key).is_some()
}

/// The 1-based line of the first key of each item of a List document's top-level `items`, when
/// they can be told for sure: exactly for JSON (`kubectl get -o json`), and for YAML where the
/// items are block sequence entries (`kubectl get -o yaml`). `None` otherwise.
fn item_lines(lines: &[&str], document: DocumentLines) -> Option<Vec<usize>> {
    let first = document.first.checked_sub(1)?;
    let body = &lines[first..document.end];
    let text = body[0].strip_prefix("---").unwrap_or(body[0]).trim_start();
    if text.starts_with('{') {
        json_item_lines(body, first)
    } else {
        yaml_item_lines(body, first)
    }
}

fn json_item_lines(body: &[&str], first: usize) -> Option<Vec<usize>> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    // The last string at depth 1, while in a string its text so far.
    let mut last_key = String::new();
    let mut string: Option<String> = None;
    let mut escaped = false;
    let mut in_items = false;
    let mut pending = false;
    for (i, line) in body.iter().enumerate() {
        for c in line.chars() {
            if let Some(s) = string.as_mut() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        if depth == 1 {
                            last_key = std::mem::take(s);
                        }
                        string = None;
                    }
                    _ => s.push(c),
                }
                continue;
            }
            match c {
                '"' => {
                    if pending && depth == 3 {
                        items.push(first + i + 1);
                        pending = false;
                    }
                    string = Some(String::new());
                }
                '{' | '[' => {
                    if depth == 1 && c == '[' && last_key == "items" {
                        in_items = true;
                    } else if depth == 2 && in_items {
                        if c != '{' || pending {
                            return None;
                        }
                        pending = true;
                    }
                    depth += 1;
                }
                '}' | ']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 1 {
                        in_items = false;
                    }
                    if pending && depth == 2 {
                        // An empty item: `{}` has no key.
                        return None;
                    }
                }
                _ => {}
            }
        }
    }
    Some(items)
}

fn yaml_item_lines(body: &[&str], first: usize) -> Option<Vec<usize>> {
    let indent = |line: &str| line.len() - line.trim_start_matches(' ').len();
    let base = indent(body[0]);
    let start = body
        .iter()
        .position(|l| indent(l) == base && l.trim() == "items:")?;
    let mut items = Vec::new();
    let mut entry_indent = None;
    let mut pending = false;
    for (i, line) in body.iter().enumerate().skip(start + 1) {
        if !has_content(line) {
            continue;
        }
        let at = indent(line);
        let rest = line.trim_start_matches(' ');
        let entry = rest == "-" || rest.starts_with("- ");
        if entry_indent.is_none() {
            if !entry || at < base {
                return None;
            }
            entry_indent = Some(at);
        }
        if entry && Some(at) == entry_indent {
            if pending {
                return None;
            }
            pending = true;
            if has_content(&rest[1..]) {
                items.push(first + i + 1);
                pending = false;
            }
        } else if at <= base {
            break;
        } else if pending {
            items.push(first + i + 1);
            pending = false;
        }
    }
    (!pending).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(text: &str) -> Vec<(usize, usize, String)> {
        let (objects, error) = read_located(text);
        assert_eq!(error, None);
        objects
            .into_iter()
            .map(|o| {
                let name = o.value["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                (o.document, o.line, name)
            })
            .collect()
    }

    #[test]
    fn each_object_is_at_its_first_key() {
        let text = "# a comment\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n---\n\n# x\nkind: Pod\nmetadata: {name: b}\n...\n---\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: c}\n---\n";
        assert_eq!(
            located(text),
            [
                (1, 3, "a".to_string()),
                (3, 10, "b".to_string()),
                (4, 14, "c".to_string())
            ]
        );
    }

    #[test]
    fn each_item_of_a_list_is_at_its_first_key() {
        let yaml = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n-\n  kind: Pod\n  metadata: {name: b}\nmetadata: {}\n";
        assert_eq!(
            located(yaml),
            [(1, 4, "a".to_string()), (1, 8, "b".to_string())]
        );
        let json = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "a", "labels": {"items": "x"}}
        },
        {"kind": "Pod", "metadata": {"name": "b"}}
    ],
    "kind": "List"
}
---
kind: Pod
metadata: {name: c}
"#;
        assert_eq!(
            located(json),
            [
                (1, 5, "a".to_string()),
                (1, 9, "b".to_string()),
                (2, 14, "c".to_string())
            ]
        );
    }

    #[test]
    fn objects_before_a_syntax_error_keep_their_lines() {
        let (objects, error) =
            read_located("kind: Pod\nmetadata: {name: a}\n---\nkind: [unclosed\n");
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].line, 1);
        assert!(error.unwrap().starts_with("document 2:"));
    }

    #[test]
    fn documents_split_as_the_yaml_parser_splits_them() {
        for text in [
            "",
            "# only a comment\n",
            "kind: Pod\n",
            "---\nkind: Pod\n",
            "kind: Pod\n---\n",
            "---\n---\n---\n",
            "%YAML 1.2\n---\nkind: Pod\n",
            "kind: Pod\n...\n---\nkind: Service\n...\n",
            "--- {kind: Pod}\n--- # c\nkind: Service\n",
            "---\nkind: ConfigMap\ndata:\n  a: |\n    ---x\n    # not a comment\n---\nkind: Pod\n",
            "kind: Pod\r\n---\r\nkind: Service\r\n",
            "\u{feff}kind: Pod\n---\nkind: Service\n",
        ] {
            let (_, read, error) = read_objects(text);
            assert_eq!(error, None, "{text:?}");
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(documents(&lines).len(), read, "{text:?}");
        }
        let (objects, _) =
            read_located("--- {kind: Pod, metadata: {name: a}}\n--- # c\n\nkind: Service\n");
        let lines: Vec<usize> = objects.iter().map(|o| o.line).collect();
        assert_eq!(lines, [1, 4]);
    }

    #[test]
    fn the_items_of_a_kubectl_yaml_list_are_at_their_first_keys() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: a\n  spec:\n    template:\n      spec:\n        containers:\n        - name: c\n          args:\n          - -x\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        assert_eq!(
            located(text),
            [(1, 3, "a".to_string()), (1, 14, "b".to_string())]
        );
        // Indented entries, and an entry whose first key is on the next line.
        let text = "kind: List\nitems:\n  -\n    kind: Pod\n    metadata: {name: a}\n  - kind: Pod\n    metadata: {name: b}\n";
        assert_eq!(
            located(text),
            [(1, 4, "a".to_string()), (1, 6, "b".to_string())]
        );
        // A flow List cannot be told item by item: no line rather than a wrong one.
        let text = "{kind: List, items: [{kind: Pod, metadata: {name: a}},\n  {kind: Pod, metadata: {name: b}}]}\n";
        assert_eq!(
            located(text),
            [(1, 0, "a".to_string()), (1, 0, "b".to_string())]
        );
    }
}
