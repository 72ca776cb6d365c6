//! Where the tools that talk to Spira find the server and the credentials: flags, then the
//! environment (`SPIRA_URL`, `SPIRA_USERNAME`, `SPIRA_API_KEY`, `SPIRA_PROJECT_ID`), then an
//! Inflectra `spira.cfg` (`--config`, section `[credentials]`, where `token` is the key).
//! The key never comes from a flag (it would show in `ps`): only from the environment, a file
//! (`--api-key-file`) or the `spira.cfg`.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use crate::cli;
use crate::error::{Error, Result};
use spira_cfg::{Credentials, SpiraCfg};

pub(crate) mod spira_cfg;

/// The connection flags, shared by every tool that talks to Spira.
#[derive(ClapArgs, Debug, Clone, Default)]
pub(crate) struct ConnectionArgs {
    /// Spira's base URL, e.g. https://mycompany.spiraservice.net (env SPIRA_URL).
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,

    /// The user name (env SPIRA_USERNAME).
    #[arg(long, value_name = "NAME")]
    pub(crate) username: Option<String>,

    /// The project ID (env SPIRA_PROJECT_ID).
    #[arg(long, value_name = "ID")]
    pub(crate) project: Option<u64>,

    /// A file holding the API key (RSS token); the key itself is never a flag (env
    /// SPIRA_API_KEY).
    #[arg(long, value_name = "FILE")]
    pub(crate) api_key_file: Option<PathBuf>,

    /// Inflectra's spira.cfg, read unchanged: [credentials] url, username, token, project_id.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<String>,

    /// The REST API version: 7 (v7_0) or 6 (v6_0).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u8).range(6..=7))]
    pub(crate) api_version: u8,

    /// How credentials travel: headers (default), query, basic.
    #[arg(long, value_enum, default_value = "headers")]
    pub(crate) auth: Auth,

    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 60)]
    pub(crate) timeout: u64,

    /// Trust the certificate authorities in this PEM file (an on-premises Spira's CA) instead
    /// of the built-in public ones.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
}

/// Where and as whom to connect. `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct Connection {
    /// Base URL without a trailing slash.
    pub(crate) url: String,
    /// User name.
    pub(crate) username: String,
    /// API key (RSS token): a secret.
    pub(crate) api_key: String,
    /// Project ID.
    pub(crate) project: u64,
    /// The `[credentials]` of a spira.cfg, when one was given.
    pub(crate) cfg: Option<Credentials>,
    /// The proxy the environment sends requests to Spira through, as messages name it
    /// (`http://proxy:3128 from HTTPS_PROXY`, without its user name and password).
    pub(crate) proxy: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("api_key", &"***")
            .field("project", &self.project)
            .finish()
    }
}

impl ConnectionArgs {
    /// Resolves flags, then the environment, then `--config`. A missing piece is a usage error
    /// naming every place it could come from.
    pub(crate) fn resolve(&self) -> Result<Connection> {
        self.resolve_with(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// [`resolve`](Self::resolve) for a dry run, which sends nothing: the key may be missing
    /// (then it is empty); one that is given is still checked.
    pub(crate) fn resolve_without_key(&self) -> Result<Connection> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        self.resolve_env(&env, false)
    }

    /// [`resolve`](Self::resolve) with the environment given.
    pub(crate) fn resolve_with(&self, env: impl Fn(&str) -> Option<String>) -> Result<Connection> {
        self.resolve_env(&env, true)
    }

    fn resolve_env(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        need_key: bool,
    ) -> Result<Connection> {
        let cfg = match &self.config {
            Some(p) => read_cfg(p)?,
            None => Default::default(),
        };
        let from_cfg = |k: &str| cfg.values.get(k).cloned().filter(|v| !v.is_empty());
        let url = self
            .url
            .clone()
            .or_else(|| env("SPIRA_URL"))
            .or_else(|| from_cfg("url"))
            .ok_or_else(|| missing("the server's URL", "--url", "SPIRA_URL", "url"))?;
        let username = self
            .username
            .clone()
            .or_else(|| env("SPIRA_USERNAME"))
            .or_else(|| from_cfg("username"))
            .ok_or_else(|| missing("the user name", "--username", "SPIRA_USERNAME", "username"))?;
        let project = match self.project {
            Some(p) => p,
            None => {
                let raw = env("SPIRA_PROJECT_ID")
                    .or_else(|| from_cfg("project_id"))
                    .ok_or_else(|| {
                        missing("the project", "--project", "SPIRA_PROJECT_ID", "project_id")
                    })?;
                raw.trim()
                    .parse()
                    .map_err(|_| Error::Usage(format!("the project ID '{raw}' is not a number")))?
            }
        };
        let api_key = match &self.api_key_file {
            Some(p) => key_file(p)?,
            None => match env("SPIRA_API_KEY").or_else(|| from_cfg("token")) {
                Some(k) => k,
                None if !need_key => String::new(),
                None => {
                    return Err(missing(
                        "the API key",
                        "--api-key-file",
                        "SPIRA_API_KEY",
                        "token",
                    ))
                }
            },
        };
        if need_key || !api_key.is_empty() {
            check_secret("the API key", &api_key)?;
        }
        check_secret("the user name", &username)?;
        let url = check_url(&url)?;
        let proxy = env_proxy(env, &url)?;
        Ok(Connection {
            url,
            username,
            api_key,
            project,
            cfg: self.config.as_ref().map(|_| cfg),
            proxy,
        })
    }
}

impl ConnectionArgs {
    /// An HTTP client that keeps connections alive, waits `--timeout`, trusts `--ca-cert`,
    /// takes its proxy from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`), and lets every status through for the caller to judge.
    pub(crate) fn agent(&self) -> Result<ureq::Agent> {
        // Redirects are never followed: a redirect to another host would carry the key there
        // (and turn a POST into a GET that stores nothing); the tools report it instead.
        let mut b = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(std::time::Duration::from_secs(self.timeout)));
        if let Some(path) = &self.ca_cert {
            let shown = path.display();
            let pem = std::fs::read(path).map_err(|e| {
                Error::Usage(format!(
                    "cannot read --ca-cert '{shown}': {}",
                    cli::io_reason(&e)
                ))
            })?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(Error::Usage(format!(
                            "--ca-cert '{shown}': not a PEM file: {e}"
                        )))
                    }
                }
            }
            if certs.is_empty() {
                return Err(Error::Usage(format!(
                    "--ca-cert '{shown}': no certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)"
                )));
            }
            b = b.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .build(),
            );
        }
        Ok(ureq::Agent::with_parts(
            b.build(),
            ureq::unversioned::transport::DefaultConnector::new(),
            Loopback::default(),
        ))
    }
}

/// The system's name resolution, but for `localhost` and `*.localhost`, which are the loopback
/// addresses without asking anyone (RFC 6761): a static build run where there is no
/// `/etc/hosts` (an empty container, a chroot) would otherwise ask DNS for them, and fail.
#[derive(Debug, Default)]
struct Loopback(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for Loopback {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or("").trim_end_matches('.');
        let local = host.eq_ignore_ascii_case("localhost")
            || host
                .get(host.len().saturating_sub(10)..)
                .is_some_and(|t| t.eq_ignore_ascii_case(".localhost"));
        if !local {
            return self.0.resolve(uri, config, timeout);
        }
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let mut addrs = self.empty();
        addrs.push(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
        addrs.push(std::net::SocketAddr::from((
            std::net::Ipv6Addr::LOCALHOST,
            port,
        )));
        Ok(addrs)
    }
}

/// The proxy ureq takes from the environment for `url` (the first of `ALL_PROXY`,
/// `HTTPS_PROXY`, `HTTP_PROXY`, each in upper then lower case, unless `NO_PROXY` names the
/// host), named for messages: a connection that fails through a proxy must say so. A variable
/// that is set but is not a proxy URL is refused (ureq would pass over it in silence); its
/// value is not shown, since it may hold a password.
fn env_proxy(env: &dyn Fn(&str) -> Option<String>, url: &str) -> Result<Option<String>> {
    const VARS: [&str; 6] = [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ];
    let Some((var, value)) = VARS.iter().find_map(|v| env(v).map(|x| (*v, x))) else {
        return Ok(None);
    };
    let proxy = ureq::Proxy::new(&value).map_err(|e| {
        Error::Usage(format!(
            "{var} is not a proxy URL ({e}): write http://HOST:PORT, https://..., socks4://... or socks5://..."
        ))
    })?;
    let host = url.parse::<ureq::http::Uri>().ok();
    let bypassed = match (env("NO_PROXY").or_else(|| env("no_proxy")), host) {
        (Some(no), Some(uri)) => uri.host().is_some_and(|h| no_proxy_matches(&no, h)),
        _ => false,
    };
    if bypassed {
        return Ok(None);
    }
    let scheme = proxy.uri().scheme_str().unwrap_or("http");
    Ok(Some(format!(
        "{scheme}://{}:{} from {var}",
        proxy.host(),
        proxy.port()
    )))
}

/// Whether `NO_PROXY` (comma-separated hosts, `*`, or `.domain` suffixes) names `host`.
fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    no_proxy.split(',').map(str::trim).any(|e| {
        let e = e.to_ascii_lowercase();
        let e = e.trim_start_matches("*.").trim_start_matches('.');
        !e.is_empty() && (e == "*" || host == e || host.ends_with(&format!(".{e}")))
    })
}

/// The `[credentials]` of the spira.cfg at `path`.
fn read_cfg(path: &str) -> Result<Credentials> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Usage(format!(
            "--config: cannot open '{path}': {}",
            cli::io_reason(&e)
        ))
    })?;
    let cfg = SpiraCfg::read(path, &text).map_err(|e| Error::Usage(format!("--config {e}")))?;
    if !cfg.has("credentials") {
        return Err(Error::Usage(format!(
            "--config {path}: no [credentials] section (a spira.cfg holds url, username, token and project_id there)"
        )));
    }
    Ok(cfg.credentials())
}

/// The key in a key file: its text less the file's final line end (LF or CR LF).
fn key_file(p: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(p).map_err(|e| {
        Error::Usage(format!(
            "cannot read the API key file '{}': {}",
            p.display(),
            cli::io_reason(&e)
        ))
    })?;
    let key = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if key.is_empty() {
        return Err(Error::Usage(format!(
            "the API key file '{}' is empty",
            p.display()
        )));
    }
    Ok(key.to_string())
}

/// A key or a user name must be printable ASCII (space included): no byte-order mark, no
/// control character (a stray CR or tab), nothing beyond ASCII, which no header can carry as
/// it is. What is wrong is named; the value itself never is.
fn check_secret(what: &str, value: &str) -> Result<()> {
    let why = if value.starts_with('\u{feff}') {
        "starts with a byte-order mark (a file saved as UTF-8 with BOM?)".to_string()
    } else if let Some((i, c)) = value.char_indices().find(|(_, c)| c.is_control()) {
        let name = match c {
            '\r' => "a carriage return (a file with Windows line ends?)".to_string(),
            '\n' => "a line end".to_string(),
            '\t' => "a tab".to_string(),
            c => format!("the control character U+{:04X}", u32::from(c)),
        };
        format!(
            "holds {name} at character {}",
            value[..i].chars().count() + 1
        )
    } else if let Some((i, _)) = value.char_indices().find(|(_, c)| !c.is_ascii()) {
        format!(
            "holds a character beyond ASCII at character {}",
            value[..i].chars().count() + 1
        )
    } else {
        return Ok(());
    };
    Err(Error::Usage(format!(
        "{what} {why}: it must be printable ASCII"
    )))
}

/// The server's base URL: `http://` or `https://` (any case), a host, an optional path, and
/// neither a query nor a fragment (the tools add their own paths and queries to it).
fn check_url(raw: &str) -> Result<String> {
    let bad = |why: &str| Error::Usage(format!("the URL '{raw}' {why}"));
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.contains('?') || trimmed.contains('#') {
        return Err(bad(
            "has a query or a fragment: give the server's base URL only",
        ));
    }
    let uri: ureq::http::Uri = trimmed
        .parse()
        .map_err(|e| bad(&format!("is not a URL ({e})")))?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    if !matches!(scheme.as_deref(), Some("http" | "https")) {
        return Err(bad("must start with http:// or https://"));
    }
    let Some(authority) = uri.authority() else {
        return Err(bad("has no host"));
    };
    if authority.as_str().contains('@') {
        // Not echoed: what is before the @ may be a password.
        return Err(Error::Usage(
            "the server's URL holds a user name or password: give the base URL alone, and the credentials with --username and SPIRA_API_KEY or --api-key-file".into(),
        ));
    }
    let path = uri.path().trim_end_matches('/');
    Ok(format!(
        "{}://{authority}{path}",
        scheme.unwrap_or_default()
    ))
}

fn missing(what: &str, flag: &str, env: &str, cfg: &str) -> Error {
    Error::Usage(format!(
        "{what} is not set: use {flag}, the environment variable {env}, or {cfg} in a spira.cfg given with --config"
    ))
}

impl Connection {
    /// The REST base for API version `v` (6 or 7): `.../Services/v7_0/RestService.svc/projects/N`.
    pub(crate) fn project_base(&self, v: u8) -> String {
        format!(
            "{}/Services/v{v}_0/RestService.svc/projects/{}",
            self.url, self.project
        )
    }

    /// ` (through the proxy P from VAR)` when requests go through a proxy, else nothing: for
    /// a message about a failed connection.
    pub(crate) fn via(&self) -> String {
        self.proxy
            .as_ref()
            .map_or(String::new(), |p| format!(" (through the proxy {p})"))
    }

    /// Replaces every occurrence of the key in `s`: for anything shown to people.
    pub(crate) fn redact(&self, s: &str) -> String {
        let mut out = s.to_string();
        for form in self.secret_forms() {
            if out.contains(&form) {
                out = out.replace(&form, "***");
            }
        }
        out
    }

    /// Every form the key takes on the wire or in an echo of it: as it is, percent-encoded
    /// (either case), as the inside of a JSON string, and HTTP Basic's base64 of
    /// `user:key`, longest first.
    pub(crate) fn secret_forms(&self) -> Vec<String> {
        if self.api_key.is_empty() {
            return Vec::new();
        }
        let encoded = percent_encode(&self.api_key);
        let json = serde_json::to_string(&self.api_key).unwrap_or_default();
        let mut forms = vec![
            self.api_key.clone(),
            lower_hex(&encoded),
            encoded,
            json.get(1..json.len().saturating_sub(1))
                .unwrap_or("")
                .to_string(),
            base64(format!("{}:{}", self.username, self.api_key).as_bytes()),
        ];
        forms.retain(|f| !f.is_empty());
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        forms
    }
}

/// A percent-encoding with its hex digits in lower case (`%7b` for `%7B`), as some encoders
/// write it.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex = 0;
    for c in encoded.chars() {
        if c == '%' {
            hex = 2;
            out.push(c);
        } else if hex > 0 {
            hex -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters (RFC 3986), as a query value.
pub(crate) fn percent_encode(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(s, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flags_then_environment_then_cfg() {
        let dir = std::env::temp_dir().join(format!("spira-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("spira.cfg");
        std::fs::write(&cfg, "[credentials]\nurl = https://cfg.example\nusername = cfguser\ntoken = {CFG-KEY}\nproject_id = 3\n").unwrap();
        let args = ConnectionArgs {
            config: Some(cfg.display().to_string()),
            ..Default::default()
        };
        let c = args.resolve_with(env(&[])).unwrap();
        assert_eq!(
            (
                c.url.as_str(),
                c.username.as_str(),
                c.api_key.as_str(),
                c.project
            ),
            ("https://cfg.example", "cfguser", "{CFG-KEY}", 3)
        );
        let c = args
            .resolve_with(env(&[
                ("SPIRA_URL", "http://env.example/"),
                ("SPIRA_API_KEY", "envkey"),
                ("SPIRA_PROJECT_ID", "4"),
            ]))
            .unwrap();
        assert_eq!(
            (
                c.url.as_str(),
                c.username.as_str(),
                c.api_key.as_str(),
                c.project
            ),
            ("http://env.example", "cfguser", "envkey", 4)
        );
        let flags = ConnectionArgs {
            url: Some("http://flag.example".into()),
            project: Some(5),
            ..args
        };
        let c = flags
            .resolve_with(env(&[("SPIRA_URL", "http://env.example")]))
            .unwrap();
        assert_eq!((c.url.as_str(), c.project), ("http://flag.example", 5));
        assert!(!format!("{c:?}").contains("CFG-KEY"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn missing_pieces_say_where_they_could_come_from() {
        let e = ConnectionArgs::default()
            .resolve_with(env(&[]))
            .unwrap_err();
        assert_eq!(e.to_string(), "the server's URL is not set: use --url, the environment variable SPIRA_URL, or url in a spira.cfg given with --config");
    }

    #[test]
    fn a_url_is_a_base_url_or_refused() {
        let ok = |raw: &str| check_url(raw).unwrap();
        assert_eq!(ok("HTTP://Spira.example/"), "http://Spira.example");
        assert_eq!(ok(" https://h:8443/spira/ "), "https://h:8443/spira");
        for (raw, why) in [
            ("http://h/?a=1", "has a query or a fragment"),
            ("http://h#x", "has a query or a fragment"),
            ("ftp://h", "must start with http:// or https://"),
            ("h.example", "must start with http:// or https://"),
        ] {
            let e = check_url(raw).unwrap_err().to_string();
            assert!(e.contains(why), "{raw}: {e}");
        }
        let e = check_url("https://me:s3cret@h").unwrap_err().to_string();
        assert!(
            e.contains("holds a user name or password") && !e.contains("s3cret"),
            "{e}"
        );
    }

    #[test]
    fn redacts_the_key_plain_and_encoded() {
        let c = Connection {
            url: "http://x".into(),
            username: "u".into(),
            api_key: "{A B}".into(),
            project: 1,
            cfg: None,
            proxy: None,
        };
        assert_eq!(c.redact("k={A B} q=%7BA%20B%7D"), "k=*** q=***");
        // HTTP Basic's base64 of user:key, as an echo of the Authorization header shows it.
        let basic = base64(b"u:{A B}");
        assert_eq!(
            c.redact(&format!("Authorization: Basic {basic}")),
            "Authorization: Basic ***"
        );
        assert_eq!(
            c.redact("q=%7ba%20b%7d".replace("a%20b", "A%20B").as_str()),
            "q=***"
        );
    }
}

/// How credentials travel.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Auth {
    /// `username` and `api-key` headers (Spira v7's documented form).
    #[default]
    Headers,
    /// `username` and `api-key` query parameters (older Inflectra scripts; leaks into logs).
    Query,
    /// HTTP Basic `username:api-key`.
    Basic,
}

/// Standard base64 with padding: HTTP Basic credentials, and the documents spira-post uploads.
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Connection {
    /// A GET of `url` with the credentials in the chosen form.
    pub(crate) fn get(
        &self,
        agent: &ureq::Agent,
        url: &str,
        auth: Auth,
    ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        self.with_auth(agent.get(self.auth_url(url, auth)), auth)
    }

    /// A POST to `url` with the credentials in the chosen form.
    pub(crate) fn post(
        &self,
        agent: &ureq::Agent,
        url: &str,
        auth: Auth,
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        self.with_auth(agent.post(self.auth_url(url, auth)), auth)
    }

    fn auth_url(&self, url: &str, auth: Auth) -> String {
        match auth {
            Auth::Query => format!(
                "{url}{}username={}&api-key={}",
                if url.contains('?') { '&' } else { '?' },
                percent_encode(&self.username),
                percent_encode(&self.api_key)
            ),
            _ => url.to_string(),
        }
    }

    fn with_auth<B>(&self, req: ureq::RequestBuilder<B>, auth: Auth) -> ureq::RequestBuilder<B> {
        let req = req.header("Accept", "application/json");
        match auth {
            Auth::Headers => req
                .header("username", &self.username)
                .header("api-key", &self.api_key),
            Auth::Basic => req.header(
                "Authorization",
                format!(
                    "Basic {}",
                    base64(format!("{}:{}", self.username, self.api_key).as_bytes())
                ),
            ),
            Auth::Query => req,
        }
    }
}

#[cfg(test)]
mod encoding_tests {
    #[test]
    fn encodes_basic_credentials_and_query_values() {
        assert_eq!(
            super::base64(b"demo:{00000000-DEMO-KEY0-0000-000000000000}"),
            "ZGVtbzp7MDAwMDAwMDAtREVNTy1LRVkwLTAwMDAtMDAwMDAwMDAwMDAwfQ=="
        );
        assert_eq!(super::base64(b"ab"), "YWI=");
        // Every auth form must carry these through: %, +, / and = among them.
        assert_eq!(
            super::percent_encode("{A b}%+/=~-_.é"),
            "%7BA%20b%7D%25%2B%2F%3D~-_.%C3%A9"
        );
    }
}
