//! The texts to judge: files and directories as given on the command line, or standard input.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The name standard input goes by in reports.
pub const STDIN: &str = "<stdin>";

/// One text to read manifests from.
#[derive(Debug)]
pub struct Source {
    /// The path as given (a file found in a directory: the directory as given joined with its
    /// relative path), or `<stdin>`.
    pub name: String,
    pub text: String,
}

/// A path that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub name: String,
    pub message: String,
}

/// What directories are searched for: the extensions kubectl reads from a directory.
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// The sources `paths` name, in the order given, each directory's files (recursively, with the
/// manifest extensions) in name order. No path, or `-`, is standard input.
pub fn collect(paths: &[PathBuf]) -> (Vec<Source>, Vec<InputError>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    if paths.is_empty() {
        read_stdin(&mut sources, &mut errors);
    }
    for path in paths {
        if path.as_os_str() == "-" {
            read_stdin(&mut sources, &mut errors);
        } else if path.is_dir() {
            let mut files = Vec::new();
            if let Err(e) = walk(path, &mut files) {
                errors.push(InputError {
                    name: path.display().to_string(),
                    message: e,
                });
            }
            files.sort();
            for file in files {
                read_file(&file, &mut sources, &mut errors);
            }
        } else {
            read_file(path, &mut sources, &mut errors);
        }
    }
    (sources, errors)
}

fn read_stdin(sources: &mut Vec<Source>, errors: &mut Vec<InputError>) {
    let mut text = String::new();
    match std::io::stdin().read_to_string(&mut text) {
        Ok(_) => sources.push(Source {
            name: STDIN.to_string(),
            text,
        }),
        Err(e) => errors.push(InputError {
            name: STDIN.to_string(),
            message: format!("cannot read standard input: {e}"),
        }),
    }
}

fn read_file(path: &Path, sources: &mut Vec<Source>, errors: &mut Vec<InputError>) {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => sources.push(Source { name, text }),
            Err(_) => errors.push(InputError {
                name,
                message: "not UTF-8 text".to_string(),
            }),
        },
        Err(e) => errors.push(InputError {
            name,
            message: format!("cannot read: {e}"),
        }),
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the directory: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read the directory: {e}"))?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e))
        {
            files.push(path);
        }
    }
    Ok(())
}
