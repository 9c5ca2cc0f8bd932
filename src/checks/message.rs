//! The wording helpers of Pod Security Admission's messages, so that this policy's messages read
//! exactly like the API server's own.

pub fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 {
        singular
    } else {
        plural
    }
}

/// `"a", "b", "c"`
pub fn join_quoted<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(item.as_ref());
        out.push('"');
    }
    out
}

/// `container "a"` or `containers "a", "b"`
pub fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quoted(names)
    )
}

/// Sorted and without duplicates, like the string sets the upstream messages list.
pub fn sorted_set(mut items: Vec<&str>) -> Vec<&str> {
    items.sort_unstable();
    items.dedup();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_follow_the_upstream_wording() {
        assert_eq!(containers_phrase(&["a"]), r#"container "a""#);
        assert_eq!(containers_phrase(&["a", "b"]), r#"containers "a", "b""#);
        assert_eq!(join_quoted::<&str>(&[]), "");
        assert_eq!(pluralize("uses", "use", 2), "use");
        assert_eq!(sorted_set(vec!["b", "a", "b"]), ["a", "b"]);
    }
}
