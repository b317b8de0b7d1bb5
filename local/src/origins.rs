//! The deployed stack's public origins mapped to the local servers.
//!
//! The stack's URLs name AWS hosts (`https://<api>.execute-api.<region>.amazonaws.com`,
//! `https://<prefix>.auth.<region>.amazoncognito.com`). Local mode keeps them
//! as deployed wherever they are compared exactly (the app client's callback
//! URLs, the `redirect_uri` a code is bound to) and rewrites only the origin
//! where a browser or a function must reach a local server instead.

/// Deployed origin → local origin, both without a trailing slash.
#[derive(Debug, Clone, Default)]
pub struct OriginMap {
    pairs: Vec<(String, String)>,
}

impl OriginMap {
    /// Adds `deployed` (`https://host`) → `local` (`http://127.0.0.1:PORT`).
    pub fn add(&mut self, deployed: impl Into<String>, local: impl Into<String>) {
        let trim = |s: String| s.trim_end_matches('/').to_owned();
        self.pairs.push((trim(deployed.into()), trim(local.into())));
    }

    /// `url` with a deployed origin replaced by its local one; any other URL as it is.
    pub fn to_local(&self, url: &str) -> String {
        for (deployed, local) in &self.pairs {
            if let Some(rest) = url.strip_prefix(deployed.as_str())
                && (rest.is_empty() || rest.starts_with(['/', '?', '#']))
            {
                return format!("{local}{rest}");
            }
        }
        url.to_owned()
    }

    /// `url` with a local origin replaced by its deployed one; any other URL as it is.
    pub fn to_deployed(&self, url: &str) -> String {
        for (deployed, local) in &self.pairs {
            if let Some(rest) = url.strip_prefix(local.as_str())
                && (rest.is_empty() || rest.starts_with(['/', '?', '#']))
            {
                return format!("{deployed}{rest}");
            }
        }
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_a_whole_origin() {
        let mut map = OriginMap::default();
        map.add(
            "https://abc.execute-api.us-east-1.amazonaws.com",
            "http://127.0.0.1:4000/",
        );
        assert_eq!(
            map.to_local("https://abc.execute-api.us-east-1.amazonaws.com/dev/auth?x=1"),
            "http://127.0.0.1:4000/dev/auth?x=1"
        );
        assert_eq!(
            map.to_local("https://abc.execute-api.us-east-1.amazonaws.com.evil.example/dev"),
            "https://abc.execute-api.us-east-1.amazonaws.com.evil.example/dev"
        );
        assert_eq!(
            map.to_deployed("http://127.0.0.1:4000/dev/auth"),
            "https://abc.execute-api.us-east-1.amazonaws.com/dev/auth"
        );
    }
}
