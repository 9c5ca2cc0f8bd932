//! The user an image runs as when the manifest sets none: the `User` of its OCI configuration
//! (a Dockerfile's `USER`), read the way the container runtime and the kubelet read it.
//!
//! `User` is `uid`, `uid:gid`, `name`, `name:group` or empty. The runtime reports the part
//! before `:` as a numeric uid when it parses as one and as a user name otherwise; the kubelet
//! treats an image that reports neither as root. A name cannot be resolved without the image's
//! `/etc/passwd`, so the kubelet cannot verify it is non-root and refuses it under
//! `runAsNonRoot: true`. The group is only known when it is numeric.
//!
//! Pure reading of the host's answer, below the security contexts that carry its result; asking
//! the host (once per image, in a fixed order) is `image_user.rs`'s job.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUser {
    /// The image reference, as the container names it.
    pub image: String,
    /// `config.User` verbatim (empty when the image sets none).
    pub raw: String,
    /// The numeric uid the runtime will run as; `Some(0)` for an image that sets no user.
    pub uid: Option<i64>,
    /// A non-numeric user name, which only the image's `/etc/passwd` can resolve.
    pub name: Option<String>,
    /// The numeric group of `uid:gid`; unknown otherwise (the runtime looks it up in the image).
    pub gid: Option<i64>,
}

impl ImageUser {
    /// Reads the user from the image configuration the host answers with
    /// (`{"manifest": ..., "digest": ..., "config": {"config": {"User": ...}}}`).
    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn from_manifest_and_config(image: &str, answer: &Value) -> Result<ImageUser, String> {
        let config = answer
            .get("config")
            .ok_or("the answer has no image configuration (`config`)")?;
        if !config.is_object() {
            return Err("the image configuration (`config`) is not an object".to_string());
        }
        // `config.config` (the execution parameters) and `User` are optional in the OCI spec.
        let user = match config.get("config") {
            None | Some(Value::Null) => "",
            Some(Value::Object(exec)) => match exec.get("User") {
                None | Some(Value::Null) => "",
                Some(Value::String(user)) => user.as_str(),
                Some(_) => return Err("`config.config.User` is not a string".to_string()),
            },
            Some(_) => return Err("`config.config` is not an object".to_string()),
        };
        Ok(ImageUser::parse(image, user))
    }

    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn parse(image: &str, user: &str) -> ImageUser {
        let (user_part, group_part) = match user.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (user, None),
        };
        let (uid, name) = if user_part.is_empty() {
            // No user at all: the kubelet treats it as root.
            (Some(0), None)
        } else {
            match user_part.parse::<i64>() {
                Ok(uid) => (Some(uid), None),
                Err(_) => (None, Some(user_part.to_string())),
            }
        };
        ImageUser {
            image: image.to_string(),
            raw: user.to_string(),
            uid,
            name,
            gid: group_part.and_then(|g| g.parse::<i64>().ok()),
        }
    }

    /// `image "nginx:1.27" (USER "101")`, for messages.
    #[cfg_attr(scp_optimize_size, optimize(size))]
    pub fn describe(&self) -> String {
        if self.raw.is_empty() {
            format!("image \"{}\" (no USER, so root)", self.image)
        } else {
            format!("image \"{}\" (USER \"{}\")", self.image, self.raw)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(raw: &str) -> ImageUser {
        ImageUser::parse("img", raw)
    }

    #[test]
    fn every_user_spelling() {
        assert_eq!(
            (user("").uid, user("").name, user("").gid),
            (Some(0), None, None)
        );
        assert_eq!((user("1001").uid, user("1001").gid), (Some(1001), None));
        assert_eq!(
            (user("1001:2002").uid, user("1001:2002").gid),
            (Some(1001), Some(2002))
        );
        assert_eq!((user("0:0").uid, user("0:0").gid), (Some(0), Some(0)));
        let named = user("nginx");
        assert_eq!((named.uid, named.name.as_deref()), (None, Some("nginx")));
        let named_group = user("app:staff");
        assert_eq!(
            (
                named_group.uid,
                named_group.name.as_deref(),
                named_group.gid
            ),
            (None, Some("app"), None)
        );
        // A numeric user with a named group: the uid is known, the group is not.
        assert_eq!(
            (user("1001:staff").uid, user("1001:staff").gid),
            (Some(1001), None)
        );
        // `:1000` names only a group: the user part is empty, so root.
        assert_eq!(
            (user(":1000").uid, user(":1000").gid),
            (Some(0), Some(1000))
        );
        assert_eq!(user("root").name.as_deref(), Some("root"));
    }

    #[test]
    fn reads_the_host_answer() {
        let answer = json!({"manifest": {}, "digest": "sha256:x",
            "config": {"architecture": "amd64", "os": "linux", "config": {"User": "65532:65532"}}});
        let u = ImageUser::from_manifest_and_config("distroless", &answer).unwrap();
        assert_eq!(
            (u.uid, u.gid, u.raw.as_str()),
            (Some(65532), Some(65532), "65532:65532")
        );
        // No execution parameters, or no User: root.
        for config in [
            json!({"os": "linux"}),
            json!({"config": {}}),
            json!({"config": null}),
            json!({"config": {"User": null}}),
        ] {
            let u = ImageUser::from_manifest_and_config("i", &json!({"config": config})).unwrap();
            assert_eq!(u.uid, Some(0), "{config}");
            assert!(u.describe().contains("no USER, so root"));
        }
        for bad in [
            json!({}),
            json!({"config": "x"}),
            json!({"config": {"config": []}}),
            json!({"config": {"config": {"User": 5}}}),
        ] {
            assert!(
                ImageUser::from_manifest_and_config("i", &bad).is_err(),
                "{bad}"
            );
        }
    }
}
