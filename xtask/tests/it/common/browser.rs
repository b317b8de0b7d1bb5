//! A scripted browser for the protocol tests: plain HTTP, every redirect
//! walked by hand so each status and `Location` can be asserted, cookies kept
//! per host as a browser keeps them (not per port), forms read from the page.

use std::collections::BTreeMap;

use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};

/// One answer, read whole.
pub(crate) struct Page {
    pub(crate) url: url::Url,
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// The `Location` header, resolved against the page's URL.
    pub(crate) fn location(&self) -> url::Url {
        let location = self
            .headers
            .get(LOCATION)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} has no Location:\n{}",
                    self.status, self.url, self.body
                )
            })
            .to_str()
            .unwrap();
        self.url.join(location).unwrap()
    }

    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` for the cookie `name`.
    pub(crate) fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The first form's action (resolved) and its hidden fields.
    pub(crate) fn form(&self) -> (url::Url, Vec<(String, String)>) {
        let form =
            regex_lite::Regex::new(r#"(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>"#).unwrap();
        let captures = form
            .captures(&self.body)
            .unwrap_or_else(|| panic!("no form on {}:\n{}", self.url, self.body));
        let action = self.url.join(&unescape(&captures[1])).unwrap();
        let input = regex_lite::Regex::new(r#"<input[^>]*>"#).unwrap();
        let attr = |tag: &str, name: &str| {
            regex_lite::Regex::new(&format!(r#"\b{name}="([^"]*)""#))
                .unwrap()
                .captures(tag)
                .map(|c| unescape(&c[1]))
        };
        let hidden = input
            .find_iter(&captures[2])
            .map(|m| m.as_str())
            .filter(|tag| attr(tag, "type").as_deref() == Some("hidden"))
            .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
            .collect();
        (action, hidden)
    }

    /// The first link whose target contains `part`, resolved.
    pub(crate) fn link(&self, part: &str) -> url::Url {
        let href = regex_lite::Regex::new(r#"href="([^"]*)""#).unwrap();
        let found = href
            .captures_iter(&self.body)
            .map(|c| unescape(&c[1]))
            .find(|h| h.contains(part))
            .unwrap_or_else(|| panic!("no link to {part} on {}:\n{}", self.url, self.body));
        self.url.join(&found).unwrap()
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The scripted browser.
pub(crate) struct Browser {
    http: reqwest::Client,
    /// host → cookie name → value.
    cookies: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }
}

impl Browser {
    fn cookie_header(&self, url: &url::Url) -> Option<String> {
        let jar = self.cookies.get(url.host_str()?)?;
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    async fn send(&mut self, url: url::Url, request: reqwest::RequestBuilder) -> Page {
        let request = match self.cookie_header(&url) {
            Some(cookies) => request.header(COOKIE, cookies),
            None => request,
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let host = url.host_str().unwrap_or_default().to_owned();
        for value in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = value.split(';').next().unwrap_or_default();
            let Some((name, val)) = pair.split_once('=') else {
                continue;
            };
            let removed = value.to_ascii_lowercase().contains("max-age=0") || val.is_empty();
            let jar = self.cookies.entry(host.clone()).or_default();
            if removed {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), val.to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Page {
            url,
            status,
            headers,
            body,
        }
    }

    /// GET, as a browser asks for a page.
    pub(crate) async fn get(&mut self, url: url::Url) -> Page {
        let request = self.http.get(url.clone()).header(ACCEPT, "text/html");
        self.send(url, request).await
    }

    /// GET asking for JSON.
    pub(crate) async fn get_json(&mut self, url: url::Url) -> Page {
        let request = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json");
        self.send(url, request).await
    }

    /// Submits a form.
    pub(crate) async fn post(&mut self, url: url::Url, fields: &[(String, String)]) -> Page {
        let request = self
            .http
            .post(url.clone())
            .header(ACCEPT, "text/html")
            .form(fields);
        self.send(url, request).await
    }
}
