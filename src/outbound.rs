//! One policy for every request vigil sends with a credential (to the
//! API server, to Jira), and one retry policy for every request.
//!
//! Credentials: never over plain `http://` (whatever the case of the
//! scheme) except to this machine, and never through a proxy over plain
//! `http://` (the proxy would read them). Retries: each try has a
//! timeout; 429, 5xx, timeouts and broken connections are tried again
//! with backoff, up to a number of tries within a total budget, honouring
//! `Retry-After` when it fits.

use std::time::Duration;

/// How a credentialed request may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Plain http to this machine: connect directly, ignoring proxy
    /// settings, so the credential never crosses the network.
    pub direct: bool,
    /// The host, for messages.
    pub host: String,
}

/// Whether a request carrying `credential` (e.g. "the token in
/// $JIRA_TOKEN") may go to `url`, and how. `Err` says why not.
pub fn route(url: &str, credential: &str) -> Result<Route, String> {
    let uri: http::Uri = url
        .trim()
        .parse()
        .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let scheme = uri
        .scheme_str()
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| format!("{url:?} has no scheme: write https://..."))?;
    let host = uri.host().unwrap_or("").to_owned();
    match scheme.as_str() {
        "https" => Ok(Route {
            direct: false,
            host,
        }),
        "http" if is_loopback(&host) => Ok(Route { direct: true, host }),
        "http" => Err(format!(
            "refusing to send {credential} over plain http:// to {host}: anyone on the network could read it; use the https:// URL"
        )),
        other => Err(format!("{url:?}: unsupported scheme {other:?}; write https://...")),
    }
}

/// Whether a host name or address is this machine.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A credential must be sendable as an HTTP header value: no line breaks or
/// other control characters (a token with CR/LF would split the request).
pub fn check_header_value(value: &str, what: &str) -> Result<(), String> {
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(format!(
            "{what} holds a line break or another control character, which cannot be sent in an HTTP header: check how it was written (a stray newline?)"
        ));
    }
    Ok(())
}

/// The one retry policy.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Tries in all.
    pub attempts: u32,
    /// One try's limit.
    pub timeout: Duration,
    /// All tries' limit.
    pub budget: Duration,
}

impl Retry {
    /// `attempts` tries of `timeout` each, within twice `timeout` in all.
    pub fn new(attempts: u32, timeout: Duration) -> Retry {
        Retry {
            attempts: attempts.max(1),
            timeout,
            budget: timeout * 2,
        }
    }

    /// How long to wait before try `attempt + 1` (counting from 0), after
    /// `elapsed`, given the server's `Retry-After`; `None` when no try is
    /// left or the wait does not fit the budget.
    pub fn wait(
        &self,
        attempt: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if attempt + 1 >= self.attempts {
            return None;
        }
        let backoff = Duration::from_millis(250 * (1 << attempt.min(4)));
        let wait = retry_after.map_or(backoff, |a| a.max(backoff));
        (elapsed + wait + Duration::from_millis(10) <= self.budget).then_some(wait)
    }

    /// Whether an HTTP status is worth another try.
    pub fn retryable(status: u16) -> bool {
        status == 429 || (500..=599).contains(&status)
    }

    /// `(4 tries over 1.8s)`.
    pub fn tally(tries: u32, elapsed: Duration) -> String {
        format!(
            "{} over {:.1}s",
            if tries == 1 {
                "1 try".to_owned()
            } else {
                format!("{tries} tries")
            },
            elapsed.as_secs_f64()
        )
    }
}

/// A `Retry-After` header's seconds (the date form is not used by API
/// servers or Jira), capped at an hour.
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_machine_whatever_the_case() {
        assert!(route("HTTP://jira.example.com", "the token").is_err());
        assert!(route("http://jira.example.com/x", "the token").is_err());
        assert!(route("Http://10.0.0.1:8080", "the token").is_err());
        let r = route("http://127.0.0.1:8080", "the token").unwrap();
        assert!(r.direct);
        assert!(route("HTTP://[::1]:80/", "t").unwrap().direct);
        assert!(route("http://localhost:1", "t").unwrap().direct);
        let r = route("HTTPS://jira.example.com", "t").unwrap();
        assert!(!r.direct && r.host == "jira.example.com");
        assert!(route("ftp://x", "t").is_err());
        assert!(route("jira.example.com", "t").is_err());
    }

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        assert!(check_header_value("abc\r\nX-Evil: 1", "the token").is_err());
        assert!(check_header_value("abc\n", "the token").is_err());
        assert!(check_header_value("abc.def-123", "the token").is_ok());
    }

    #[test]
    fn waits_back_off_honour_retry_after_and_fit_the_budget() {
        let r = Retry::new(4, Duration::from_secs(10));
        assert_eq!(
            r.wait(0, Duration::ZERO, None),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            r.wait(1, Duration::ZERO, None),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            r.wait(0, Duration::ZERO, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        // Beyond the budget (20 s) or the last try: give up.
        assert_eq!(
            r.wait(0, Duration::from_secs(19), Some(Duration::from_secs(5))),
            None
        );
        assert_eq!(r.wait(3, Duration::ZERO, None), None);
        assert!(Retry::retryable(503) && Retry::retryable(429) && !Retry::retryable(404));
        assert_eq!(retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
    }
}
