//! Kubernetes manifests read as `kubectl apply -f` reads them, with the line of every key.
//!
//! A checker that reports a violation wants to point at the line of the offending field (SARIF
//! regions, editor annotations), which serde-based YAML readers throw away. This module reads the
//! text with `saphyr-parser`'s event parser and builds, in one pass, the JSON value kubectl would
//! send and a tree of line numbers parallel to it.
//!
//! What "as kubectl reads them" means here:
//! - the text is split into documents by kubectl's own rule (`k8s.io/apimachinery`'s
//!   `YAMLReader`), not by the YAML grammar, and every document is parsed on its own, so one broken
//!   document does not hide the others;
//! - scalars resolve as `sigs.k8s.io/yaml` (go-yaml v2, YAML 1.1 flavour) resolves them, so
//!   `privileged: yes` is `true` and `mode: 0644` is 420, as they would be in the cluster;
//! - duplicate keys are refused, as server-side field validation refuses them;
//! - a `List` (`kind: List`, `PodList`, ...) stands for its items, as `kubectl apply` treats it.
//!
//! The module only takes text: reading files is the caller's business.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value};

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// An entry of a mapping, by key.
    Key(String),
    /// An item of a sequence, by 0-based index.
    Index(usize),
}

/// Where each node of one object is: for a mapping entry, the 1-based line of its key; for a
/// sequence item, the line where the item starts (for `- name: x`, the line of the `-` and of the
/// first key). The object itself (empty path) is at the line of its first key.
///
/// Stored as a tree parallel to the value rather than a map from full paths: building it costs
/// one small node per YAML node, with no path copied, and a lookup walks only the path asked for.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    root: Node,
}

impl Positions {
    /// The line of the node at `path`, if that node exists in the source.
    pub fn line(&self, path: &[Step]) -> Option<usize> {
        let mut node = &self.root;
        for step in path {
            node = node.child(step)?;
        }
        Some(node.line)
    }

    /// The line of the node at `path`, or of its nearest ancestor that exists (the object itself
    /// at worst): a violation about a field that is absent (say, a missing `runAsNonRoot`) is best
    /// shown where the field should have been.
    pub fn nearest_line(&self, path: &[Step]) -> usize {
        let mut node = &self.root;
        for step in path {
            match node.child(step) {
                Some(child) => node = child,
                None => break,
            }
        }
        node.line
    }
}

/// The position of one YAML node and of the nodes inside it.
#[derive(Debug, Clone, Default)]
struct Node {
    line: usize,
    children: Children,
}

#[derive(Debug, Clone, Default)]
enum Children {
    #[default]
    Scalar,
    /// Entries sorted by key, for binary search.
    Mapping(Vec<(Box<str>, Node)>),
    Sequence(Vec<Node>),
}

impl Node {
    fn leaf(line: usize) -> Node {
        Node {
            line,
            children: Children::Scalar,
        }
    }

    fn child(&self, step: &Step) -> Option<&Node> {
        match (&self.children, step) {
            (Children::Mapping(entries), Step::Key(key)) => entries
                .binary_search_by(|(k, _)| (**k).cmp(key.as_str()))
                .ok()
                .map(|i| &entries[i].1),
            (Children::Sequence(items), Step::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// The line of a mapping's first key: the smallest line among its entries, since keys come in
    /// source order and merged entries (`<<`) come after the `<<` key. An empty mapping has no
    /// key, so its own line stands in.
    fn first_key_line(&self) -> usize {
        match &self.children {
            Children::Mapping(entries) => entries
                .iter()
                .map(|(_, node)| node.line)
                .min()
                .unwrap_or(self.line),
            _ => self.line,
        }
    }

    /// A copy of this subtree with every line set to `line`: the positions of an alias's copy of
    /// an anchored node. The copied nodes are written at the alias, not where the anchor is.
    fn relined(&self, line: usize) -> Node {
        let children = match &self.children {
            Children::Scalar => Children::Scalar,
            Children::Mapping(entries) => Children::Mapping(
                entries
                    .iter()
                    .map(|(k, node)| (k.clone(), node.relined(line)))
                    .collect(),
            ),
            Children::Sequence(items) => {
                Children::Sequence(items.iter().map(|node| node.relined(line)).collect())
            }
        };
        Node { line, children }
    }

    /// The number of nodes in this subtree, for the alias expansion budget.
    fn count(&self) -> usize {
        1 + match &self.children {
            Children::Scalar => 0,
            Children::Mapping(entries) => entries.iter().map(|(_, node)| node.count()).sum(),
            Children::Sequence(items) => items.iter().map(Node::count).sum(),
        }
    }
}

/// An object read from a manifest.
#[derive(Debug, Clone)]
pub struct Object {
    /// 1-based number of the document in the text, counting documents as kubectl's separator
    /// splitting does (see [`read`]). Items of a List share their List's document number.
    pub document: usize,
    /// For an item of a List (`kind: List` or any kind ending in `List` that has an `items`
    /// array), its index in `items`; else None.
    pub item: Option<usize>,
    /// 1-based line of the object's first key.
    pub line: usize,
    pub value: Value,
    /// Positions of the nodes of `value`, with paths relative to `value` (for a List item:
    /// relative to the item, not to the List).
    pub positions: Positions,
}

/// A document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub document: usize,
    /// 1-based line of the error (absolute in the text).
    pub line: usize,
    pub message: String,
}

/// Everything read from one text, in source order.
#[derive(Debug, Clone)]
pub enum Entry {
    Object(Object),
    Unreadable(Unreadable),
}

/// `read`, with the documents parsed on up to `threads` threads (each a contiguous run of
/// documents, so the entries keep their order): documents are independent, and parsing is most
/// of what `check` spends outside the module.
pub fn read_parallel(text: &str, threads: usize) -> Vec<Entry> {
    // A byte order mark is no content; it would otherwise hide a leading separator.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let documents = split_documents(text);
    // Below this, starting threads costs more than it saves.
    const PER_THREAD: usize = 64;
    let threads = threads.min(documents.len() / PER_THREAD).max(1);
    let chunk = documents.len().div_ceil(threads).max(1);
    let read_chunk = |first: usize, chunk: &[DocumentText]| {
        let mut entries = Vec::new();
        for (i, document) in chunk.iter().enumerate() {
            read_document(
                &text[document.start..document.end],
                document.first_line - 1,
                first + i + 1,
                &mut entries,
            );
        }
        entries
    };
    if threads == 1 {
        return read_chunk(0, &documents);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = documents
            .chunks(chunk)
            .enumerate()
            .map(|(n, part)| {
                let read_chunk = &read_chunk;
                scope.spawn(move || read_chunk(n * chunk, part))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a manifest reader thread panicked"))
            .collect()
    })
}

/// Reads every object of `text` (YAML or JSON, one or many documents), in order, with the
/// documents that could not be read in between.
///
/// Documents are the chunks between separator lines, as kubectl splits them: a line that starts
/// with `---` followed by nothing but whitespace or a `#` comment. They are numbered from 1 in
/// the order kubectl's reader returns them, which skips chunks of zero lines (the one before a
/// leading `---`, or between two consecutive separators) but keeps chunks that hold only blank
/// lines, comments or `null`: those yield nothing (kubectl skips them) yet still take a number,
/// so the numbers match the `---`-separated sections a reader sees in the file.
///
/// Inside a document, YAML may still hold several nodes: after a `...` end marker, after a
/// `--- {...}` line (which is content, not a separator, for kubectl's reader), or as a stream of
/// JSON values with no separator (`{...}\n{...}`, which kubectl accepts). Each is read, and they
/// share the document's number.
pub fn read(text: &str) -> Vec<Entry> {
    read_parallel(text, 1)
}

/// A chunk of the text between separators: its byte range and the line it starts on.
struct DocumentText {
    start: usize,
    end: usize,
    first_line: usize,
}

/// Splits `text` as `k8s.io/apimachinery/pkg/util/yaml.YAMLReader` does: line by line, a line
/// starting with `---` whose rest is empty, blank or a comment ends the current chunk, and chunks
/// with no line at all are dropped. (Current kubectl rejects a `---` line followed by anything
/// else; older ones took it as content. Taken as content here, so the YAML parser reads it as a
/// document start with content rather than the whole file failing.)
fn split_documents(text: &str) -> Vec<DocumentText> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut first_line = 1;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let line_number = index + 1;
        if is_separator(line) {
            if offset > start {
                documents.push(DocumentText {
                    start,
                    end: offset,
                    first_line,
                });
            }
            start = offset + line.len();
            first_line = line_number + 1;
        }
        offset += line.len();
    }
    if offset > start {
        documents.push(DocumentText {
            start,
            end: offset,
            first_line,
        });
    }
    documents
}

fn is_separator(line: &str) -> bool {
    line.strip_prefix("---").is_some_and(|rest| {
        let rest = rest.trim();
        rest.is_empty() || rest.starts_with('#')
    })
}

/// Reads one document, `base` being the number of lines of the text before it.
fn read_document(document_text: &str, base: usize, document: usize, entries: &mut Vec<Entry>) {
    let mut rest = document_text;
    let mut base = base;
    // A JSON stream (`{...}{...}`) is not YAML: the parser stops after the first value. Each time,
    // parsing resumes where the value ended.
    while let Some(resume) = read_nodes(rest, base, document, entries) {
        base += rest[..resume].matches('\n').count();
        rest = &rest[resume..];
    }
}

/// Reads the YAML nodes of `text`. Returns the byte offset where a JSON stream's next value
/// starts, if the parser stopped there.
fn read_nodes(text: &str, base: usize, document: usize, entries: &mut Vec<Entry>) -> Option<usize> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::new(base);
    // Character range of the last top-level node, while nothing has followed it.
    let mut last_root: Option<(usize, usize)> = None;
    let mut root_start = 0;
    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(event) => event,
            Err(error) => {
                if let Some(resume) = last_root.and_then(|root| json_stream_resume(text, root)) {
                    return Some(resume);
                }
                entries.push(Entry::Unreadable(scan_error(&error, text, base, document)));
                return None;
            }
        };
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => return None,
            Event::DocumentStart(_) | Event::DocumentEnd => {
                builder.anchors.clear();
                builder.alias_nodes = 0;
                last_root = None;
            }
            event => {
                if builder.stack.is_empty() {
                    root_start = span.start.index();
                }
                match builder.event(event, span) {
                    Ok(None) => {}
                    Ok(Some((value, node))) => {
                        last_root = Some((root_start, span.end.index()));
                        emit(value, node, document, entries);
                    }
                    Err(error) => {
                        entries.push(Entry::Unreadable(Unreadable {
                            document,
                            line: error.line,
                            message: error.message,
                        }));
                        return None;
                    }
                }
            }
        }
    }
    None
}

/// Where the next value of a JSON stream starts, if the node in the character range `root` is a
/// JSON-style (flow) collection and the text after it starts another one.
fn json_stream_resume(text: &str, (start, end): (usize, usize)) -> Option<usize> {
    // The parser counts characters; walking only up to the node's end keeps a long stream linear.
    let mut bytes = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()));
    let start_byte = bytes.nth(start)?;
    // `nth` consumed the characters up to and including `start`.
    let end = bytes.nth(end.checked_sub(start + 1)?)?;
    if !text[start_byte..].starts_with(['{', '[']) {
        return None;
    }
    let after = &text[end..];
    let next = after.trim_start();
    next.starts_with(['{', '['])
        .then(|| end + (after.len() - next.len()))
}

/// The error as an unreadable document. An error at the end of the text (an unclosed bracket,
/// say) is marked on the line after the last one, which would be the next document's separator:
/// it is shown on the last line instead.
fn scan_error(error: &ScanError, text: &str, base: usize, document: usize) -> Unreadable {
    let last_line = text.matches('\n').count() + usize::from(!text.ends_with('\n'));
    Unreadable {
        document,
        line: base + error.marker().line().min(last_line.max(1)),
        message: format!("{} (column {})", error.info(), error.marker().col() + 1),
    }
}

/// Turns a top-level node into entries: nothing for `null` (an empty document), one object per
/// item for a List, one object for any other mapping.
fn emit(value: Value, node: Node, document: usize, entries: &mut Vec<Entry>) {
    match value {
        Value::Null => {}
        Value::Object(mut map) => {
            if is_list(&map) {
                let Some(Value::Array(items)) = map.remove("items") else {
                    unreachable!("is_list checked that items is an array")
                };
                let mut item_nodes = match take_child(node, "items").children {
                    Children::Sequence(nodes) => nodes,
                    _ => Vec::new(),
                };
                item_nodes.resize_with(items.len(), Node::default);
                for (index, (item, item_node)) in items.into_iter().zip(item_nodes).enumerate() {
                    emit_object(item, item_node, document, Some(index), entries);
                }
            } else {
                emit_object(Value::Object(map), node, document, None, entries);
            }
        }
        other => emit_object(other, node, document, None, entries),
    }
}

fn emit_object(
    value: Value,
    mut node: Node,
    document: usize,
    item: Option<usize>,
    entries: &mut Vec<Entry>,
) {
    if !value.is_object() {
        let what = match item {
            Some(index) => format!("item {index} of the List: "),
            None => String::new(),
        };
        entries.push(Entry::Unreadable(Unreadable {
            document,
            line: node.line,
            message: format!(
                "{what}expected a Kubernetes object (a mapping), found {}",
                describe(&value)
            ),
        }));
        return;
    }
    node.line = node.first_key_line();
    entries.push(Entry::Object(Object {
        document,
        item,
        line: node.line,
        value,
        positions: Positions { root: node },
    }));
}

/// Whether a top-level mapping is a List, which `kubectl apply` takes as its items: its kind is
/// `List` or ends in `List` (`PodList`, ...) and it has an `items` array. The array is required
/// so that an ordinary kind that happens to end in `List` is not dropped.
fn is_list(map: &Map<String, Value>) -> bool {
    map.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.ends_with("List"))
        && map.get("items").is_some_and(Value::is_array)
}

fn take_child(node: Node, key: &str) -> Node {
    match node.children {
        Children::Mapping(mut entries) => entries
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .map(|i| entries.swap_remove(i).1)
            .unwrap_or_default(),
        _ => Node::default(),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// Deeper nesting is refused: nothing in Kubernetes comes close, and the recursive code that
/// drops, clones or walks a value must not run out of stack on hostile input.
const MAX_DEPTH: usize = 1000;

/// How many nodes aliases may copy in one document. Aliases to aliases grow exponentially ("a
/// billion laughs"); this bounds the memory a manifest can make the reader use, far above what
/// a real manifest's anchors need.
const MAX_ALIAS_NODES: usize = 200_000;

#[derive(Debug)]
struct BuildError {
    line: usize,
    message: String,
}

/// Builds values and positions from parser events, with an explicit stack so that nesting depth
/// costs no call stack.
struct Builder {
    /// Lines of the text before the parsed slice: parser lines are relative to the slice.
    base: usize,
    stack: Vec<Frame>,
    /// Completed anchored nodes by the parser's anchor id, with their node count.
    anchors: HashMap<usize, (Value, Node, usize)>,
    /// Nodes copied by aliases in the current document.
    alias_nodes: usize,
}

enum Frame {
    Mapping(MappingFrame),
    Sequence(SequenceFrame),
}

struct MappingFrame {
    line: usize,
    anchor: usize,
    map: Map<String, Value>,
    entries: Vec<(Box<str>, Node)>,
    /// The key read, waiting for its value.
    key: Option<Key>,
    /// Values of `<<` keys, merged when the mapping ends so that explicit keys win wherever they
    /// are written.
    merges: Vec<(Value, Node)>,
}

struct Key {
    text: String,
    line: usize,
    merge: bool,
}

struct SequenceFrame {
    line: usize,
    anchor: usize,
    values: Vec<Value>,
    nodes: Vec<Node>,
}

impl Builder {
    fn new(base: usize) -> Self {
        Builder {
            base,
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
        }
    }

    /// Takes one node event; returns the top-level node once it is complete.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<Option<(Value, Node)>, BuildError> {
        let line = self.base + span.start.line();
        let error = |message: String| BuildError { line, message };
        let in_key = self.expects_key();
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if in_key {
                    if anchor != 0 {
                        let value = resolve_scalar(&text, style, tag.as_deref()).map_err(error)?;
                        self.anchors.insert(anchor, (value, Node::leaf(line), 1));
                    }
                    let merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                    self.set_key(text.into_owned(), line, merge);
                    return Ok(None);
                }
                let value = resolve_scalar(&text, style, tag.as_deref()).map_err(error)?;
                let node = Node::leaf(line);
                if anchor != 0 {
                    self.anchors
                        .insert(anchor, (value.clone(), node.clone(), 1));
                }
                self.complete(value, node)
            }
            Event::Alias(id) => {
                let Some((value, node, count)) = self.anchors.get(&id) else {
                    return Err(error(
                        "an alias refers to a node that contains it (or to an unknown anchor)"
                            .to_string(),
                    ));
                };
                if in_key {
                    let text = match value {
                        Value::String(text) => text.clone(),
                        Value::Null => "null".to_string(),
                        Value::Bool(_) | Value::Number(_) => value.to_string(),
                        _ => {
                            return Err(error(format!(
                                "a mapping key must be a scalar, found an alias to {}",
                                describe(value)
                            )))
                        }
                    };
                    self.set_key(text, line, false);
                    return Ok(None);
                }
                self.alias_nodes += count;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(error(format!(
                        "aliases expand to more than {MAX_ALIAS_NODES} nodes in this document"
                    )));
                }
                let (value, node) = (value.clone(), node.relined(line));
                self.complete(value, node)
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let is_mapping = matches!(event, Event::MappingStart(..));
                if in_key {
                    let found = if is_mapping {
                        "a mapping"
                    } else {
                        "a sequence"
                    };
                    return Err(error(format!(
                        "a mapping key must be a scalar, found {found}"
                    )));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(error(format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                self.stack.push(if is_mapping {
                    Frame::Mapping(MappingFrame {
                        line,
                        anchor,
                        map: Map::new(),
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                    })
                } else {
                    Frame::Sequence(SequenceFrame {
                        line,
                        anchor,
                        values: Vec::new(),
                        nodes: Vec::new(),
                    })
                });
                Ok(None)
            }
            Event::SequenceEnd => {
                let Some(Frame::Sequence(frame)) = self.stack.pop() else {
                    return Err(error("unexpected end of a sequence".to_string()));
                };
                let value = Value::Array(frame.values);
                let node = Node {
                    line: frame.line,
                    children: Children::Sequence(frame.nodes),
                };
                self.store_anchor(frame.anchor, &value, &node);
                self.complete(value, node)
            }
            Event::MappingEnd => {
                let Some(Frame::Mapping(frame)) = self.stack.pop() else {
                    return Err(error("unexpected end of a mapping".to_string()));
                };
                let anchor = frame.anchor;
                let (value, node) = frame.finish();
                self.store_anchor(anchor, &value, &node);
                self.complete(value, node)
            }
            _ => Ok(None),
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Mapping(frame)) if frame.key.is_none())
    }

    fn set_key(&mut self, text: String, line: usize, merge: bool) {
        if let Some(Frame::Mapping(frame)) = self.stack.last_mut() {
            frame.key = Some(Key { text, line, merge });
        }
    }

    fn store_anchor(&mut self, anchor: usize, value: &Value, node: &Node) {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), node.clone(), node.count()));
        }
    }

    /// Places a complete node in its parent, or returns it if it is the top-level node.
    fn complete(
        &mut self,
        value: Value,
        mut node: Node,
    ) -> Result<Option<(Value, Node)>, BuildError> {
        match self.stack.last_mut() {
            None => Ok(Some((value, node))),
            Some(Frame::Sequence(frame)) => {
                frame.values.push(value);
                frame.nodes.push(node);
                Ok(None)
            }
            Some(Frame::Mapping(frame)) => {
                let Some(key) = frame.key.take() else {
                    return Err(BuildError {
                        line: node.line,
                        message: "a mapping value without a key".to_string(),
                    });
                };
                if key.merge {
                    let mergeable = match &value {
                        Value::Object(_) => true,
                        Value::Array(items) => items.iter().all(Value::is_object),
                        _ => false,
                    };
                    if !mergeable {
                        return Err(BuildError {
                            line: key.line,
                            message: "a merge key (<<) needs a mapping or a sequence of mappings"
                                .to_string(),
                        });
                    }
                    frame.merges.push((value, node));
                    return Ok(None);
                }
                if frame.map.contains_key(&key.text) {
                    let first = frame
                        .entries
                        .iter()
                        .find(|(k, _)| **k == *key.text)
                        .map_or(0, |(_, node)| node.line);
                    return Err(BuildError {
                        line: key.line,
                        message: format!(
                            "duplicate key {:?} (first at line {}); kubectl refuses duplicate keys",
                            key.text, first
                        ),
                    });
                }
                node.line = key.line;
                frame.entries.push((key.text.as_str().into(), node));
                frame.map.insert(key.text, value);
                Ok(None)
            }
        }
    }
}

impl MappingFrame {
    /// The mapping with its `<<` merges applied: a merged key is added only if the mapping has no
    /// such key yet, so explicit keys win, and of several merged mappings the first wins (as in
    /// go-yaml).
    fn finish(self) -> (Value, Node) {
        let MappingFrame {
            line,
            mut map,
            mut entries,
            merges,
            ..
        } = self;
        for (value, node) in merges {
            match (value, node.children) {
                (Value::Object(source), Children::Mapping(nodes)) => {
                    merge_into(&mut map, &mut entries, source, nodes);
                }
                (Value::Array(items), Children::Sequence(item_nodes)) => {
                    for (item, item_node) in items.into_iter().zip(item_nodes) {
                        if let (Value::Object(source), Children::Mapping(nodes)) =
                            (item, item_node.children)
                        {
                            merge_into(&mut map, &mut entries, source, nodes);
                        }
                    }
                }
                _ => {}
            }
        }
        entries.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        let node = Node {
            line,
            children: Children::Mapping(entries),
        };
        (Value::Object(map), node)
    }
}

/// Adds the entries of `source` (whose positions `nodes` are sorted by key) that `map` lacks.
fn merge_into(
    map: &mut Map<String, Value>,
    entries: &mut Vec<(Box<str>, Node)>,
    source: Map<String, Value>,
    mut nodes: Vec<(Box<str>, Node)>,
) {
    for (key, value) in source {
        if map.contains_key(&key) {
            continue;
        }
        let node = nodes
            .binary_search_by(|(k, _)| (**k).cmp(key.as_str()))
            .map(|i| std::mem::take(&mut nodes[i].1))
            .unwrap_or_default();
        entries.push((key.as_str().into(), node));
        map.insert(key, value);
    }
}

/// The YAML core schema tags that decide how a scalar resolves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CoreTag {
    Str,
    Int,
    Float,
    Bool,
    Null,
}

impl CoreTag {
    /// `!!str` and friends, written short or verbatim (`!<tag:yaml.org,2002:str>`). The
    /// non-specific tag `!` means "a string" for a scalar. Other tags change nothing.
    fn of(tag: &Tag) -> Option<CoreTag> {
        const CORE: &str = "tag:yaml.org,2002:";
        let name = if tag.handle == CORE {
            tag.suffix.as_str()
        } else if tag.handle.is_empty() && tag.suffix == "!" {
            return Some(CoreTag::Str);
        } else if tag.handle.is_empty() {
            tag.suffix.strip_prefix(CORE)?
        } else {
            return None;
        };
        match name {
            "str" => Some(CoreTag::Str),
            "int" => Some(CoreTag::Int),
            "float" => Some(CoreTag::Float),
            "bool" => Some(CoreTag::Bool),
            "null" => Some(CoreTag::Null),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            CoreTag::Str => "!!str",
            CoreTag::Int => "!!int",
            CoreTag::Float => "!!float",
            CoreTag::Bool => "!!bool",
            CoreTag::Null => "!!null",
        }
    }
}

/// What a plain scalar means to go-yaml v2.
enum Plain {
    Null,
    Bool(bool),
    Int(Number),
    Float(f64),
    /// `.inf`, `-.inf`, `.nan`: floats JSON cannot hold, kept as their text.
    NonFinite,
    Str,
}

/// The JSON value of a scalar, as kubectl would send it. Quoted and block scalars are strings;
/// plain ones resolve as in go-yaml v2; a core tag forces or checks the type.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let string = || Value::String(text.to_owned());
    let core = tag.and_then(CoreTag::of);
    let plain = match core {
        Some(CoreTag::Str) => return Ok(string()),
        None if style != ScalarStyle::Plain => return Ok(string()),
        _ => resolve_plain(text),
    };
    let fits = matches!(
        (core, &plain),
        (None, _)
            | (Some(CoreTag::Int), Plain::Int(_))
            | (
                Some(CoreTag::Float),
                Plain::Int(_) | Plain::Float(_) | Plain::NonFinite
            )
            | (Some(CoreTag::Bool), Plain::Bool(_))
            | (Some(CoreTag::Null), Plain::Null)
    );
    if !fits {
        let tag = core.map_or("", CoreTag::name);
        return Err(format!("cannot read `{text}` as {tag}"));
    }
    Ok(match plain {
        Plain::Null => Value::Null,
        Plain::Bool(b) => Value::Bool(b),
        Plain::Int(n) => Value::Number(n),
        Plain::Float(f) => float_value(f).unwrap_or_else(string),
        Plain::NonFinite | Plain::Str => string(),
    })
}

/// Resolves a plain scalar as go-yaml v2's `resolve` does: the first character decides which
/// readings are tried (so `yes` is a boolean but `yesterday` a string without a lookup), then
/// YAML 1.1 words, then integers in Go's `ParseInt(s, 0, 64)` syntax with `_` removed, then
/// unsigned, then YAML-style decimal floats.
fn resolve_plain(text: &str) -> Plain {
    let Some(&first) = text.as_bytes().first() else {
        return Plain::Null;
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => match text {
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
                Plain::Bool(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off"
            | "OFF" => Plain::Bool(false),
            "~" | "null" | "Null" | "NULL" => Plain::Null,
            _ => Plain::Str,
        },
        b'.' => match text {
            ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" => Plain::NonFinite,
            _ => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Plain::Float(f),
                _ => Plain::Str,
            },
        },
        b'+' | b'-' | b'0'..=b'9' => {
            if matches!(
                text,
                "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
            ) {
                return Plain::NonFinite;
            }
            let digits: Cow<str> = if text.contains('_') {
                Cow::Owned(text.replace('_', ""))
            } else {
                Cow::Borrowed(text)
            };
            if let Some(n) = parse_go_int(&digits) {
                return Plain::Int(n);
            }
            if is_yaml_float(&digits) {
                if let Ok(f) = digits.parse::<f64>() {
                    if f.is_finite() {
                        return Plain::Float(f);
                    }
                }
            }
            Plain::Str
        }
        _ => Plain::Str,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: an optional sign (signed
/// only), then `0x`/`0X` hex, `0o`/`0O` or a bare leading `0` octal, `0b`/`0B` binary, or
/// decimal. None if it is not such an integer or does not fit 64 bits.
fn parse_go_int(text: &str) -> Option<Number> {
    let (negative, signed, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, true, &text[1..]),
        b'+' => (false, true, &text[1..]),
        _ => (false, false, text),
    };
    let lower = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ if unsigned.len() > 1 && unsigned.starts_with('0') => (8, &unsigned[1..]),
        _ => (10, unsigned),
    };
    // from_str_radix would accept a second sign here.
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MIN.unsigned_abs() {
            return Some(Number::from((magnitude as i64).wrapping_neg()));
        }
        None
    } else if let Ok(n) = i64::try_from(magnitude) {
        Some(Number::from(n))
    } else if !signed {
        Some(Number::from(magnitude))
    } else {
        None
    }
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let rest = if let Some(fraction) = s.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        &fraction[n..]
    } else {
        let n = digits(s);
        if n == 0 {
            return false;
        }
        let after = &s[n..];
        match after.strip_prefix('.') {
            Some(fraction) => &fraction[digits(fraction)..],
            None => after,
        }
    };
    if rest.is_empty() {
        return true;
    }
    let Some(exponent) = rest.strip_prefix(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
    !exponent.is_empty() && digits(exponent) == exponent.len()
}

/// A float as kubectl sends it: Go's JSON encoder writes a whole float below 1e21 without a
/// fraction (`1.0` and `1e3` become `1` and `1000`), which the API server then reads as an
/// integer, so such floats are integers here too. None for infinities and NaN, which JSON lacks.
fn float_value(f: f64) -> Option<Value> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // 2^63 and 2^64 are exact in f64; the casts below are within range.
        if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
            return Some(Value::Number(Number::from(f as i64)));
        }
        if f > 0.0 && f < 18_446_744_073_709_551_616.0 {
            return Some(Value::Number(Number::from(f as u64)));
        }
    }
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `spec.containers[1].name` as steps.
    fn path(text: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        for part in text.split('.').filter(|part| !part.is_empty()) {
            let (key, indexes) = part.split_once('[').unwrap_or((part, ""));
            if !key.is_empty() {
                steps.push(Step::Key(key.to_string()));
            }
            for index in indexes.split('[') {
                if let Some(index) = index.strip_suffix(']') {
                    steps.push(Step::Index(index.parse().unwrap()));
                }
            }
        }
        steps
    }

    fn objects(text: &str) -> Vec<Object> {
        read(text)
            .into_iter()
            .map(|entry| match entry {
                Entry::Object(object) => object,
                Entry::Unreadable(unreadable) => panic!("unexpected {unreadable:?}"),
            })
            .collect()
    }

    fn only_object(text: &str) -> Object {
        let mut objects = objects(text);
        assert_eq!(objects.len(), 1, "{objects:?}");
        objects.remove(0)
    }

    fn unreadable(entry: &Entry) -> &Unreadable {
        match entry {
            Entry::Unreadable(unreadable) => unreadable,
            Entry::Object(object) => panic!("expected an unreadable document, got {object:?}"),
        }
    }

    fn object(entry: &Entry) -> &Object {
        match entry {
            Entry::Object(object) => object,
            Entry::Unreadable(unreadable) => panic!("unexpected {unreadable:?}"),
        }
    }

    fn line(object: &Object, at: &str) -> Option<usize> {
        object.positions.line(&path(at))
    }

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: app:1
        - name: sidecar
          image: sidecar:1
          securityContext:
            runAsUser: 1000
            privileged: true
          ports:
          - containerPort: 80
          -
            containerPort: 443
";

    #[test]
    fn positions_of_nested_keys_and_sequence_items() {
        let object = only_object(DEPLOYMENT);
        assert_eq!(object.line, 1);
        assert_eq!(object.document, 1);
        assert_eq!(object.item, None);
        assert_eq!(line(&object, ""), Some(1));
        assert_eq!(line(&object, "kind"), Some(2));
        assert_eq!(line(&object, "metadata.name"), Some(4));
        assert_eq!(line(&object, "spec.template.spec.containers"), Some(8));
        assert_eq!(line(&object, "spec.template.spec.containers[0]"), Some(9));
        assert_eq!(line(&object, "spec.template.spec.containers[1]"), Some(11));
        assert_eq!(
            line(&object, "spec.template.spec.containers[1].image"),
            Some(12)
        );
        assert_eq!(
            line(
                &object,
                "spec.template.spec.containers[1].securityContext.privileged"
            ),
            Some(15)
        );
        assert_eq!(
            line(&object, "spec.template.spec.containers[1].ports[0]"),
            Some(17)
        );
        // An item whose content starts on the line after its `-`.
        assert_eq!(
            line(
                &object,
                "spec.template.spec.containers[1].ports[1].containerPort"
            ),
            Some(19)
        );
        assert_eq!(
            object.value["spec"]["template"]["spec"]["containers"][1]["securityContext"],
            json!({"runAsUser": 1000, "privileged": true})
        );
    }

    #[test]
    fn missing_nodes_have_no_line_but_a_nearest_one() {
        let object = only_object(DEPLOYMENT);
        let missing = path("spec.template.spec.containers[0].securityContext.privileged");
        assert_eq!(object.positions.line(&missing), None);
        assert_eq!(object.positions.nearest_line(&missing), 9);
        assert_eq!(
            object
                .positions
                .line(&path("spec.template.spec.containers[7]")),
            None
        );
        assert_eq!(object.positions.nearest_line(&path("status.phase")), 1);
        // A key step into a sequence, or an index into a mapping, does not exist either.
        assert_eq!(object.positions.line(&path("spec[0]")), None);
        assert_eq!(
            object
                .positions
                .line(&path("spec.template.spec.containers.name")),
            None
        );
        assert_eq!(Positions::default().nearest_line(&path("a")), 0);
    }

    #[test]
    fn documents_with_comments_and_separators() {
        let text = "\
---
# first
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
--- # the second one
apiVersion: v1
kind: Secret
---   
# only a comment: a document with nothing in it
---
---foo: 1
--- {apiVersion: v1, kind: Service}
";
        let entries = read(text);
        assert_eq!(entries.len(), 4, "{entries:?}");
        let first = object(&entries[0]);
        assert_eq!((first.document, first.line), (1, 3));
        assert_eq!(first.value["metadata"]["name"], "a");
        assert_eq!(line(first, "metadata.name"), Some(5));
        let second = object(&entries[1]);
        assert_eq!((second.document, second.line), (2, 7));
        assert_eq!(second.value["kind"], "Secret");
        // The comment-only document takes number 3 but yields nothing; the `---` right after a
        // separator yields no document at all. `---foo` and `--- {...}` are content of
        // document 4: a mapping, then a second YAML document in the same chunk.
        let third = object(&entries[2]);
        assert_eq!((third.document, third.line), (4, 12));
        assert_eq!(third.value, json!({"---foo": 1}));
        let fourth = object(&entries[3]);
        assert_eq!((fourth.document, fourth.line), (4, 13));
        assert_eq!(fourth.value["kind"], "Service");
    }

    #[test]
    fn helm_template_stream() {
        let text = "\
---
# Source: chart/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: release-chart
---
# Source: chart/templates/empty.yaml
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-chart
spec:
  template:
    spec:
      containers:
        - name: chart
          securityContext:
            privileged: false
";
        let objects = objects(text);
        assert_eq!(objects.len(), 2);
        assert_eq!((objects[0].document, objects[0].line), (1, 3));
        assert_eq!(objects[0].value["kind"], "ServiceAccount");
        assert_eq!((objects[1].document, objects[1].line), (3, 11));
        assert_eq!(
            line(
                &objects[1],
                "spec.template.spec.containers[0].securityContext.privileged"
            ),
            Some(21)
        );
    }

    #[test]
    fn empty_and_null_documents_yield_nothing_but_count() {
        let text = "\n---\n\n# nothing\n---\nnull\n---\n~\n---\nkind: Pod\n---\n";
        let entries = read(text);
        assert_eq!(entries.len(), 1, "{entries:?}");
        let pod = object(&entries[0]);
        assert_eq!((pod.document, pod.line), (5, 10));
        assert!(read("").is_empty());
        assert!(read("---\n---\n# just this\n").is_empty());
    }

    #[test]
    fn a_syntax_error_spoils_only_its_document() {
        let text = "\
kind: Pod
metadata:
  name: a
---
kind: Pod
metadata:
  name: [b
  labels: {}
---
kind: Pod
metadata:
  name: c
";
        let entries = read(text);
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert_eq!(object(&entries[0]).value["metadata"]["name"], "a");
        let error = unreadable(&entries[1]);
        assert_eq!(error.document, 2);
        // The flow sequence opened on line 7 is broken by the mapping on line 8.
        assert!((7..=9).contains(&error.line), "{error:?}");
        assert!(!error.message.is_empty());
        let last = object(&entries[2]);
        assert_eq!((last.document, last.line), (3, 10));
        assert_eq!(line(last, "metadata.name"), Some(12));
    }

    #[test]
    fn an_error_at_the_end_of_a_document_is_on_its_last_line() {
        let entries = read("kind: A\n---\nkind: B\nspec: {a: [1,\n---\nkind: C\n");
        assert_eq!(entries.len(), 3, "{entries:?}");
        let error = unreadable(&entries[1]);
        assert_eq!((error.document, error.line), (2, 4));
        let after = object(&entries[2]);
        assert_eq!((after.document, after.line), (3, 6));
    }

    #[test]
    fn a_bad_indentation_error_has_its_absolute_line() {
        let text = "kind: A\n---\nkind: B\nmetadata:\n  name: x\n wrong: 1\n---\nkind: C\n";
        let entries = read(text);
        assert_eq!(entries.len(), 3, "{entries:?}");
        let error = unreadable(&entries[1]);
        assert_eq!((error.document, error.line), (2, 6), "{error:?}");
        assert_eq!(object(&entries[2]).value["kind"], "C");
    }

    #[test]
    fn duplicate_keys_are_refused_at_the_second_key() {
        let text = "\
kind: Pod
spec:
  containers:
    - name: a
      securityContext:
        privileged: false
        privileged: true
---
kind: Pod
";
        let entries = read(text);
        assert_eq!(entries.len(), 2, "{entries:?}");
        let error = unreadable(&entries[0]);
        assert_eq!((error.document, error.line), (1, 7));
        assert!(error.message.contains("privileged"), "{error:?}");
        assert!(error.message.contains("line 6"), "{error:?}");
        assert_eq!(object(&entries[1]).document, 2);
        // Keys that differ in YAML but are the same JSON key are duplicates too.
        let error = read("1: a\n\"1\": b\n");
        assert_eq!(unreadable(&error[0]).line, 2);
    }

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        let object = only_object(
            "a: yes\nb: \"yes\"\nc: 'no'\nd: off\ne: On\nf: y\ng: N\nh: TRUE\ni: yEs\n\
             j: ~\nk:\nl: Null\nm: nULL\nn: 'null'\n",
        );
        assert_eq!(
            object.value,
            json!({
                "a": true, "b": "yes", "c": "no", "d": false, "e": true, "f": true,
                "g": false, "h": true, "i": "yEs", "j": null, "k": null, "l": null,
                "m": "nULL", "n": "null"
            })
        );
        let pod = only_object("securityContext:\n  privileged: yes\n");
        assert_eq!(pod.value["securityContext"]["privileged"], json!(true));
    }

    #[test]
    fn numbers() {
        let object = only_object(
            "\
octal: 0644
octal_o: 0o17
hex: 0x1F
hex_upper: 0XFF
negative_hex: -0x10
binary: 0b101
decimal: 1_000
signed: +42
negative: -7
zero: 0
big: 18446744073709551615
too_big: 18446744073709551616
too_big_hex: 0x1FFFFFFFFFFFFFFFF
float: 1.5
whole_float: 2.0
exponent: 1e3
leading_dot: .5
negative_float: -.25
not_octal: 08
inf: .inf
negative_inf: -.Inf
nan: .NaN
huge: 1e400
quoted: \"0644\"
version: 1.2.3
dash: -x
plus_word: +x
",
        );
        assert_eq!(
            object.value,
            json!({
                "octal": 420, "octal_o": 15, "hex": 31, "hex_upper": 255, "negative_hex": -16,
                "binary": 5, "decimal": 1000, "signed": 42, "negative": -7, "zero": 0,
                "big": 18_446_744_073_709_551_615_u64,
                "too_big": 18_446_744_073_709_551_616.0_f64,
                "too_big_hex": "0x1FFFFFFFFFFFFFFFF",
                "float": 1.5, "whole_float": 2, "exponent": 1000, "leading_dot": 0.5,
                "negative_float": -0.25, "not_octal": 8, "inf": ".inf",
                "negative_inf": "-.Inf", "nan": ".NaN", "huge": "1e400", "quoted": "0644",
                "version": "1.2.3", "dash": "-x", "plus_word": "+x"
            })
        );
        assert!(object.value["octal"].is_i64());
        assert!(object.value["whole_float"].is_i64());
        assert!(object.value["too_big"].is_f64());
    }

    #[test]
    fn core_tags() {
        let object = only_object(
            "a: !!str 123\nb: !!int \"0x10\"\nc: !!float 1.5\nd: !!bool yes\ne: !!null ~\n\
             f: !custom 12\ng: ! 12\nh: !<tag:yaml.org,2002:str> true\ni: !!float 3\n",
        );
        assert_eq!(
            object.value,
            json!({
                "a": "123", "b": 16, "c": 1.5, "d": true, "e": null, "f": 12, "g": "12",
                "h": "true", "i": 3
            })
        );
        let entries = read("a: !!int abc\n---\nb: !!bool 1\n---\nc: !!null x\n");
        assert_eq!(entries.len(), 3);
        for (index, entry) in entries.iter().enumerate() {
            let error = unreadable(entry);
            assert_eq!(error.line, 1 + 2 * index, "{error:?}");
            assert!(error.message.contains("cannot read"), "{error:?}");
        }
    }

    #[test]
    fn non_string_keys_become_their_text() {
        let object = only_object("1: a\ntrue: b\n0x10: c\n~: d\n\"q\": e\n");
        assert_eq!(
            object.value,
            json!({"1": "a", "true": "b", "0x10": "c", "~": "d", "q": "e"})
        );
        assert_eq!(line(&object, "0x10"), Some(3));
        let error = read("? [a]\n: b\n");
        assert!(unreadable(&error[0])
            .message
            .contains("key must be a scalar"));
    }

    #[test]
    fn pretty_printed_json_list() {
        let text = r#"{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "a"
            },
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "securityContext": {
                            "privileged": true
                        }
                    }
                ]
            }
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "b"
            }
        }
    ],
    "kind": "List",
    "metadata": {
        "resourceVersion": ""
    }
}
"#;
        let objects = objects(text);
        assert_eq!(objects.len(), 2);
        let (a, b) = (&objects[0], &objects[1]);
        assert_eq!((a.document, a.item, a.line), (1, Some(0), 5));
        assert_eq!((b.document, b.item, b.line), (1, Some(1), 22));
        assert_eq!(a.value["metadata"]["name"], "a");
        assert_eq!(b.value["metadata"]["name"], "b");
        assert_eq!(line(a, ""), Some(5));
        assert_eq!(line(a, "metadata.name"), Some(8));
        assert_eq!(
            line(a, "spec.containers[0].securityContext.privileged"),
            Some(15)
        );
        assert_eq!(line(a, "spec.containers[0]"), Some(12));
        assert_eq!(
            a.value["spec"]["containers"][0]["securityContext"]["privileged"],
            true
        );
        assert_eq!(line(b, "kind"), Some(23));
    }

    #[test]
    fn yaml_lists_and_kinds_ending_in_list() {
        let text = "\
apiVersion: v1
kind: PodList
items:
- kind: Pod
  metadata: {name: a}
- 3
- kind: Pod
---
kind: AllowList
spec: {}
---
kind: List
items: []
";
        let entries = read(text);
        assert_eq!(entries.len(), 4, "{entries:?}");
        let a = object(&entries[0]);
        assert_eq!((a.item, a.line), (Some(0), 4));
        assert_eq!(line(a, "metadata.name"), Some(5));
        let not_an_object = unreadable(&entries[1]);
        assert_eq!((not_an_object.document, not_an_object.line), (1, 6));
        assert!(
            not_an_object.message.contains("item 1"),
            "{not_an_object:?}"
        );
        assert_eq!(object(&entries[2]).item, Some(2));
        // A kind ending in List without an items array is an ordinary object.
        let allow = object(&entries[3]);
        assert_eq!((allow.document, allow.item), (2, None));
        assert_eq!(allow.value["kind"], "AllowList");
    }

    #[test]
    fn json_streams_without_separators() {
        let text = "{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"a\"}}\n{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"b\"}} {\"kind\": \"Service\"}\n";
        let objects = objects(text);
        assert_eq!(objects.len(), 3, "{objects:?}");
        assert_eq!(objects[0].value["metadata"]["name"], "a");
        assert_eq!(line(&objects[0], "metadata.name"), Some(2));
        assert_eq!(objects[1].value["metadata"]["name"], "b");
        assert_eq!((objects[1].document, objects[1].line), (1, 3));
        assert_eq!(line(&objects[1], "metadata.name"), Some(4));
        assert_eq!(
            (objects[2].line, objects[2].value["kind"].as_str()),
            (4, Some("Service"))
        );
        // A broken value after the first is reported where it breaks.
        let entries = read("{\"kind\": \"Pod\"}\n{\"kind\": \"Pod\",\n\"a\": [}\n");
        assert_eq!(entries.len(), 2, "{entries:?}");
        let error = unreadable(&entries[1]);
        assert_eq!((error.document, error.line), (1, 3));
        // After a block mapping, stray JSON is an error, not a second object.
        let entries = read("kind: Pod\n{\"kind\": \"Pod\"}\n");
        assert!(
            matches!(entries.last(), Some(Entry::Unreadable(_))),
            "{entries:?}"
        );
    }

    #[test]
    fn a_long_json_stream_reads_in_linear_time() {
        let text = "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"é\"}}\n".repeat(20_000);
        let start = std::time::Instant::now();
        let objects = objects(&text);
        assert_eq!(objects.len(), 20_000);
        assert_eq!(objects[19_999].line, 20_000);
        // Quadratic work would take minutes; linear takes well under a second even in debug.
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn unicode_before_a_json_stream_continuation() {
        let objects = objects("{\"name\": \"é☃\"}\n{\"name\": \"b\"}\n");
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].value["name"], "é☃");
        assert_eq!(objects[1].value["name"], "b");
        assert_eq!(objects[1].line, 2);
    }

    #[test]
    fn crlf_line_endings() {
        let text = "---\r\nkind: Pod\r\nmetadata:\r\n  name: a\r\n--- # next\r\nkind: Pod\r\nspec:\r\n  script: |\r\n    echo hi\r\n    exit 0\r\n  privileged: true\r\n";
        let objects = objects(text);
        assert_eq!(objects.len(), 2);
        assert_eq!((objects[0].document, objects[0].line), (1, 2));
        assert_eq!(objects[0].value["metadata"]["name"], "a");
        assert_eq!(line(&objects[0], "metadata.name"), Some(4));
        assert_eq!((objects[1].document, objects[1].line), (2, 6));
        assert_eq!(objects[1].value["spec"]["script"], "echo hi\nexit 0\n");
        assert_eq!(line(&objects[1], "spec.privileged"), Some(11));
    }

    #[test]
    fn block_scalars_are_strings() {
        let object = only_object(
            "kind: ConfigMap\ndata:\n  literal: |\n    true\n    0644\n  folded: >-\n    a\n    b\n  \
             kept: |+\n    x\n\n  after: 1\n",
        );
        assert_eq!(object.value["data"]["literal"], "true\n0644\n");
        assert_eq!(object.value["data"]["folded"], "a b");
        assert_eq!(object.value["data"]["kept"], "x\n\n");
        assert_eq!(line(&object, "data.folded"), Some(6));
        assert_eq!(line(&object, "data.after"), Some(12));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "\
kind: Pod
x-defaults: &defaults
  privileged: false
  runAsUser: 1000
x-caps: &caps {drop: [ALL]}
spec:
  containers:
    - name: a
      securityContext:
        <<: *defaults
        runAsUser: 0
    - name: b
      securityContext:
        runAsUser: 5
        <<: [*defaults, {capabilities: *caps, privileged: true}]
    - name: c
      securityContext: *defaults
    - &name d
    - *name
";
        let object = only_object(text);
        let containers = &object.value["spec"]["containers"];
        // Explicit keys win over merged ones, wherever they are written.
        assert_eq!(
            containers[0]["securityContext"],
            json!({"privileged": false, "runAsUser": 0})
        );
        // Of several merged mappings, the first wins.
        assert_eq!(
            containers[1]["securityContext"],
            json!({"privileged": false, "runAsUser": 5, "capabilities": {"drop": ["ALL"]}})
        );
        assert_eq!(
            containers[2]["securityContext"],
            json!({"privileged": false, "runAsUser": 1000})
        );
        assert_eq!(containers[3], "d");
        assert_eq!(containers[4], "d");
        let at = |p: &str| line(&object, &format!("spec.containers{p}"));
        assert_eq!(at("[0].securityContext.runAsUser"), Some(11));
        // Merged and aliased nodes are where the alias is written.
        assert_eq!(at("[0].securityContext.privileged"), Some(10));
        assert_eq!(at("[1].securityContext.privileged"), Some(15));
        assert_eq!(at("[1].securityContext.capabilities.drop[0]"), Some(15));
        assert_eq!(at("[2].securityContext"), Some(17));
        assert_eq!(at("[2].securityContext.runAsUser"), Some(17));
        assert_eq!(at("[4]"), Some(19));
        assert!(object.value.get("<<").is_none());
    }

    #[test]
    fn bad_merges_and_aliases() {
        let error = read("a: &x 1\nb:\n  <<: *x\n");
        assert_eq!(unreadable(&error[0]).line, 3);
        assert!(unreadable(&error[0]).message.contains("merge"));
        // A quoted `<<` is an ordinary key.
        assert_eq!(only_object("\"<<\": 1\n").value, json!({"<<": 1}));
        let error = read("a: &x\n  b: *x\n");
        assert_eq!(unreadable(&error[0]).line, 2);
        let error = read("a: *nowhere\n");
        assert_eq!(unreadable(&error[0]).line, 1);
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let previous = format!("*a{}", i - 1);
            let items = [previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        text.push_str("---\nkind: Pod\n");
        let entries = read(&text);
        assert_eq!(entries.len(), 2);
        assert!(unreadable(&entries[0]).message.contains("aliases expand"));
        assert_eq!(object(&entries[1]).value["kind"], "Pod");
    }

    #[test]
    fn nesting_is_bounded() {
        // Block sequences nest one level per `- `; the parser itself limits flow nesting.
        let deep = format!("a:\n  {}x\n", "- ".repeat(MAX_DEPTH + 10));
        let entries = read(&deep);
        let error = unreadable(&entries[0]);
        assert!(error.message.contains("nesting"), "{error:?}");
    }

    #[test]
    fn top_level_values_that_are_not_mappings() {
        let entries = read("- a\n- b\n---\njust text\n---\n42\n---\n[1, 2]\n");
        assert_eq!(entries.len(), 4);
        let expected = [
            (1, 1, "a sequence"),
            (2, 4, "a string"),
            (3, 6, "a number"),
            (4, 8, "a sequence"),
        ];
        for (entry, (document, line, found)) in entries.iter().zip(expected) {
            let error = unreadable(entry);
            assert_eq!((error.document, error.line), (document, line));
            assert_eq!(
                error.message,
                format!("expected a Kubernetes object (a mapping), found {found}")
            );
        }
    }

    #[test]
    fn document_end_markers_are_tolerated() {
        let entries = read("kind: Pod\n...\n---\nkind: Service\n...\n# trailing\n");
        assert_eq!(entries.len(), 2);
        assert_eq!(object(&entries[0]).value["kind"], "Pod");
        let service = object(&entries[1]);
        assert_eq!((service.document, service.line), (2, 4));
    }

    #[test]
    fn empty_mapping_object() {
        let object = only_object("---\n{}\n");
        assert_eq!((object.line, object.value.clone()), (2, json!({})));
        assert_eq!(object.positions.line(&[]), Some(2));
    }

    #[test]
    fn byte_order_mark_and_no_final_newline() {
        let objects = objects("\u{feff}---\nkind: Pod\n---\nkind: Service");
        assert_eq!(objects.len(), 2);
        assert_eq!((objects[0].document, objects[0].line), (1, 2));
        assert_eq!((objects[1].document, objects[1].line), (2, 4));
    }

    /// About 50 lines per Deployment, 10,000 documents; run in release:
    /// `cargo test --release -p security-context-policy-cli manifest -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing; meaningful only in release"]
    fn reads_ten_thousand_deployments() {
        let deployment = "\
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web, tier: frontend}
  annotations:
    example.com/owner: \"team-a\"
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: registry.example.com/web:1.2.3
          ports:
            - containerPort: 8080
              protocol: TCP
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [\"ALL\"]
          resources:
            limits:
              cpu: 500m
              memory: 256Mi
        - name: sidecar
          image: registry.example.com/sidecar:0.9
          securityContext:
            privileged: false
            runAsUser: 1000
          env:
            - name: MODE
              value: \"prod\"
            - name: PORT
              value: \"9090\"
      volumes:
        - name: data
          emptyDir: {}
";
        let text = deployment.repeat(10_000);
        let start = std::time::Instant::now();
        let entries = read(&text);
        let elapsed = start.elapsed();
        eprintln!(
            "read {} objects ({} lines, {} bytes) in {elapsed:?}",
            entries.len(),
            text.lines().count(),
            text.len()
        );
        assert_eq!(entries.len(), 10_000);
        let last = object(&entries[9_999]);
        assert_eq!(last.document, 10_000);
        assert_eq!(
            line(
                last,
                "spec.template.spec.containers[1].securityContext.privileged"
            ),
            Some(9_999 * 52 + 43)
        );
    }

    #[test]
    fn reading_in_parallel_gives_the_same_entries_in_the_same_order() {
        let mut text = String::new();
        for i in 0..300 {
            if i == 150 {
                text.push_str("kind: [unclosed\n---\n");
            }
            text.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers: [{{name: c, image: i}}]\n---\n"
            ));
        }
        let summary = |entries: Vec<Entry>| -> Vec<(usize, usize, String)> {
            entries
                .into_iter()
                .map(|e| match e {
                    Entry::Object(o) => (o.document, o.line, o.value.to_string()),
                    Entry::Unreadable(u) => (u.document, u.line, u.message),
                })
                .collect()
        };
        let serial = summary(read(&text));
        assert_eq!(serial.len(), 301);
        assert_eq!(serial, summary(read_parallel(&text, 3)));
        assert_eq!(serial, summary(read_parallel(&text, 2)));
    }
}
