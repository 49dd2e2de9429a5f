//! The text patterns redaction looks for (credentials, URL authorities, `host:port`, ISO
//! timestamps, AIQUM job keys, scratch names, UUIDs, hex IDs, handles named in text). Each matcher
//! looks at the start of a string and returns how many bytes match; none allocates or decides a
//! placeholder (that is `redact`'s job).

/// `Basic <token>` / `Bearer <token>`: the length of the whole match.
pub(crate) fn credential_token(rest: &str) -> Option<usize> {
    let lower = rest.get(..7).map(str::to_ascii_lowercase)?;
    let scheme = if lower.starts_with("basic ") {
        6
    } else if lower == "bearer " {
        7
    } else {
        return None;
    };
    let tok = rest[scheme..]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b"+/=._-".contains(b))
        .count();
    (tok > 0).then_some(scheme + tok)
}

/// `http(s)://authority`: the length up to (not including) the path.
pub(crate) fn url_authority(rest: &str) -> Option<usize> {
    let scheme = if rest.starts_with("https://") {
        8
    } else if rest.starts_with("http://") {
        7
    } else {
        return None;
    };
    let auth = rest[scheme..]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b".-:[]@%_".contains(b))
        .count();
    Some(scheme + auth)
}

fn digits(s: &[u8], from: usize) -> usize {
    s[from.min(s.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// `a.b.c.d:port` or `localhost:port`.
pub(crate) fn ipv4_port(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut i = if rest.starts_with("localhost") {
        9
    } else {
        let mut i = 0;
        for part in 0..4 {
            let n = digits(b, i);
            if n == 0 || n > 3 {
                return None;
            }
            i += n;
            if part < 3 {
                if b.get(i) != Some(&b'.') {
                    return None;
                }
                i += 1;
            }
        }
        i
    };
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let n = digits(b, i);
    if n == 0 || n > 5 || b.get(i + n).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(i + n)
}

/// ISO 8601 date-time: `YYYY-MM-DDTHH:MM[:SS[.frac]][Z|±HH[:]MM]`.
pub(crate) fn timestamp(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let fixed = |i: usize, n: usize| digits(b, i) >= n;
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(fixed(0, 4) && digits(b, 0) == 4 && at(4, b'-') && fixed(5, 2) && at(7, b'-')) {
        return None;
    }
    if !(fixed(8, 2) && (at(10, b'T') || at(10, b't')) && fixed(11, 2) && at(13, b':')) {
        return None;
    }
    if !fixed(14, 2) {
        return None;
    }
    let mut i = 16;
    if at(i, b':') && digits(b, i + 1) == 2 {
        i += 3;
        if at(i, b'.') && digits(b, i + 1) > 0 {
            i += 1 + digits(b, i + 1);
        }
    }
    if at(i, b'Z') || at(i, b'z') {
        i += 1;
    } else if (at(i, b'+') || at(i, b'-')) && digits(b, i + 1) == 2 {
        let mut j = i + 3;
        if at(j, b':') {
            j += 1;
        }
        if digits(b, j) == 2 {
            i = j + 2;
        }
    }
    Some(i)
}

/// [`job_key`] where it starts a key: `prev`, the character before `rest`, is not part of one (a
/// letter, digit, `:` or `-`).
pub(crate) fn job_key_after(prev: Option<char>, rest: &str) -> Option<usize> {
    let boundary = prev.is_none_or(|c| !c.is_ascii_alphanumeric() && c != ':' && c != '-');
    if boundary { job_key(rest) } else { None }
}

/// AIQUM job key: four hex groups joined by `:`, the 2nd and 4th optionally negative
/// (`06a6148bf9e862df:-2611856e:16e8d47e722:-7f87`).
pub(crate) fn job_key(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let hex = |i: usize| {
        b[i.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count()
    };
    let mut i = 0;
    for group in 0..4 {
        if group > 0 {
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            if b.get(i) == Some(&b'-') {
                i += 1;
            }
        }
        let n = hex(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b':')
    {
        return None;
    }
    Some(i)
}

/// `jobconform-<alphanumerics>`: a scratch object named by the harness. Also
/// `[redacted]-<alphanumerics>`: the same name after `transport` replaced a password that happens
/// to be `jobconform` (the mock's default) inside it.
pub(crate) fn scratch_name(rest: &str) -> Option<usize> {
    let p = ["jobconform-", "[redacted]-"]
        .into_iter()
        .find(|p| rest.starts_with(p))?;
    let n = rest[p.len()..]
        .bytes()
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    (n > 0).then_some(p.len() + n)
}

/// A UUID (`8-4-4-4-12` hex digits) not followed by more of the same.
pub(crate) fn uuid(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut i = 0;
    for (g, n) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
        if g > 0 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        let run = b[i.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if run != n {
            return None;
        }
        i += n;
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
    {
        return None;
    }
    Some(i)
}

/// A whole string of at least 16 hex digits (device IDs, serials): `[hex-id-N]`.
pub(crate) fn is_hex_id(s: &str) -> bool {
    s.len() >= 16 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `handle 17`, `handle=17`, `Handle #17`, `/asyncresults/17` in text: (bytes before the number,
/// number length).
pub(crate) fn handle_in_text(rest: &str) -> Option<(usize, usize)> {
    let starts = |p: &str| {
        rest.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    let head = if starts("asyncresults/") {
        "asyncresults/".len()
    } else if starts("handle") {
        let sep = rest[6..]
            .bytes()
            .take_while(|c| b" =:#".contains(c))
            .count();
        if sep == 0 {
            return None;
        }
        6 + sep
    } else {
        return None;
    };
    let n = digits(rest.as_bytes(), head);
    let after = rest.as_bytes().get(head + n);
    if n == 0 || after.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((head, n))
}
