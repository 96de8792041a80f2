//! A strict JSON reader for message values.
//!
//! The contract needs things a general-purpose JSON library does not give: repeated keys must be
//! seen (they are a `schema_violation`, yet "the key's last value counts" for the checks before
//! that), a number too large for float64 must parse and be flagged rather than fail the whole
//! message (it is `out_of_range`, which ranks after other reasons), and a leading byte-order
//! mark, `NaN`, `Infinity` or an unpaired surrogate must be `malformed_json`. Objects therefore
//! keep every member in order, and numbers keep their float64 value, which is infinite when the
//! literal overflows.
//!
//! Strings without escapes are borrowed from the input rather than copied.
//!
//! Nesting deeper than [`MAX_DEPTH`] cannot belong to a valid event; such values are checked for
//! syntax without recursion and kept as [`Json::Deep`], so no input can exhaust the stack.

/// How deep values are kept as a tree; deeper ones are syntax-checked and summarized.
const MAX_DEPTH: usize = 16;

/// Room for an event's envelope (nine or ten keys) in the first allocation of an object's
/// members, instead of growing through four and eight.
const MEMBERS: usize = 10;

use std::borrow::Cow;

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// The float64 nearest to the literal; infinite when the literal is beyond float64's range.
    Number(f64),
    /// Borrowed from the input unless it had escapes.
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
    /// A syntactically valid array or object nested too deep to keep; never a valid field value.
    Deep,
}

/// A JSON object with its members in document order, repeated keys included.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Object<'a> {
    members: Vec<(Cow<'a, str>, Json<'a>)>,
    repeated_key: Option<Cow<'a, str>>,
}

impl<'a> Object<'a> {
    /// The value of `key`; with a repeated key, the last one, as the contract says.
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.members
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// The first key that appears more than once, if any.
    pub(crate) fn repeated_key(&self) -> Option<&str> {
        self.repeated_key.as_deref()
    }

    /// Member names in document order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(name, _)| name.as_ref())
    }
}

impl Json<'_> {
    /// The JSON type name, for error details.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) | Json::Deep => "array or object",
            Json::Object(_) => "object",
        }
    }
}

/// Why a message is not one JSON object, with the byte offset where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
    pub(crate) what: &'static str,
}

/// Parses `bytes` as exactly one JSON object (surrounding whitespace allowed).
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Object<'_>, SyntaxError> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(SyntaxError {
            offset: 0,
            what: "a byte-order mark before the JSON value",
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|error| SyntaxError {
        offset: error.valid_up_to(),
        what: "bytes that are not UTF-8",
    })?;
    let mut reader = Reader {
        text: text.as_bytes(),
        source: text,
        pos: 0,
    };
    reader.skip_whitespace();
    if reader.peek() != Some(b'{') {
        return Err(reader.error("a value that is not a JSON object"));
    }
    let Json::Object(object) = reader.value(0)? else {
        return Err(reader.error("a value that is not a JSON object"));
    };
    reader.skip_whitespace();
    if reader.pos != reader.text.len() {
        return Err(reader.error("text after the JSON object"));
    }
    Ok(object)
}

struct Reader<'a> {
    text: &'a [u8],
    source: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, what: &'static str) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            what,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, literal: &'static [u8]) -> Result<(), SyntaxError> {
        if self.text[self.pos..].starts_with(literal) {
            self.pos += literal.len();
            Ok(())
        } else {
            Err(self.error("an invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("the end of the input where a value was expected")),
            Some(b'{' | b'[') if depth >= MAX_DEPTH => {
                self.skip_nested()?;
                Ok(Json::Deep)
            }
            Some(b'{') => self.object(depth).map(Json::Object),
            Some(b'[') => self.array(depth).map(Json::Array),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.expect_literal(b"true").map(|()| Json::Bool(true)),
            Some(b'f') => self.expect_literal(b"false").map(|()| Json::Bool(false)),
            Some(b'n') => self.expect_literal(b"null").map(|()| Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            Some(_) => Err(self.error("a character that cannot start a JSON value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Object<'a>, SyntaxError> {
        self.pos += 1;
        let mut object = Object {
            members: Vec::with_capacity(MEMBERS),
            repeated_key: None,
        };
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(object);
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("an object key that is not a string"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("a missing ':' after an object key"));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            if object.repeated_key.is_none() && object.members.iter().any(|(name, _)| *name == key)
            {
                object.repeated_key = Some(key.clone());
            }
            object.members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(object);
                }
                _ => return Err(self.error("a missing ',' or '}' in an object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Json<'a>>, SyntaxError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.error("a missing ',' or ']' in an array")),
            }
        }
    }

    /// Checks the syntax of a deeply nested array or object with an explicit stack.
    fn skip_nested(&mut self) -> Result<(), SyntaxError> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    open.push(b'}');
                    self.skip_whitespace();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        open.pop();
                    } else {
                        self.member_key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    open.push(b']');
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        open.pop();
                    } else {
                        continue;
                    }
                }
                Some(b'"') => drop(self.string()?),
                Some(b't') => self.expect_literal(b"true")?,
                Some(b'f') => self.expect_literal(b"false")?,
                Some(b'n') => self.expect_literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => drop(self.number()?),
                _ => return Err(self.error("a character that cannot start a JSON value")),
            }
            // A value is complete: close containers or move to the next element.
            loop {
                let Some(&closer) = open.last() else {
                    return Ok(());
                };
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if closer == b'}' {
                            self.skip_whitespace();
                            self.member_key()?;
                        }
                        break;
                    }
                    Some(byte) if byte == closer => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => return Err(self.error("a missing ',' or closing bracket")),
                }
            }
        }
    }

    fn member_key(&mut self) -> Result<(), SyntaxError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("an object key that is not a string"));
        }
        self.string()?;
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(self.error("a missing ':' after an object key"));
        }
        self.pos += 1;
        Ok(())
    }

    fn number(&mut self) -> Result<f64, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("a number without digits")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("a number with no digits after '.'"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("a number with no digits in its exponent"));
            }
            self.digits();
        }
        // The grammar above admits only what Rust's float parser reads, and that parser rounds
        // to nearest and yields infinity past float64's range, as the contract asks.
        self.source[start..self.pos]
            .parse::<f64>()
            .map_err(|_| SyntaxError {
                offset: start,
                what: "an unreadable number",
            })
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        self.pos += 1;
        let start = self.pos;
        // Most strings have no escape: borrow them from the input. Every message's strings
        // pass here, so the closing quote (or first escape) is found with memchr's vector
        // search, and the span before it is checked for control characters in one pass.
        let rest = &self.text[start..];
        let stop = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
        if let Some(control) = rest[..stop].iter().position(|&byte| byte < 0x20) {
            self.pos = start + control;
            return Err(self.error("a control character inside a string"));
        }
        self.pos = start + stop;
        if self.peek() == Some(b'"') {
            let text = &self.source[start..self.pos];
            self.pos += 1;
            return Ok(Cow::Borrowed(text));
        }
        let mut out = String::from(&self.source[start..self.pos]);
        let mut run_start = self.pos;
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("an unterminated string"));
            };
            match byte {
                b'"' => {
                    out.push_str(&self.source[run_start..self.pos]);
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    out.push_str(&self.source[run_start..self.pos]);
                    self.pos += 1;
                    self.escape(&mut out)?;
                    run_start = self.pos;
                }
                0x00..=0x1F => return Err(self.error("a control character inside a string")),
                _ => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("an unterminated escape"));
        };
        self.pos += 1;
        let decoded = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        if !self.text[self.pos..].starts_with(b"\\u") {
                            return Err(self.error("an unpaired surrogate escape"));
                        }
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error("an unpaired surrogate escape"));
                        }
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code).ok_or_else(|| self.error("an invalid escape"))?
                    }
                    0xDC00..=0xDFFF => return Err(self.error("an unpaired surrogate escape")),
                    _ => char::from_u32(first).ok_or_else(|| self.error("an invalid escape"))?,
                }
            }
            _ => return Err(self.error("an invalid escape")),
        };
        out.push(decoded);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let Some(digits) = self.text.get(self.pos..self.pos + 4) else {
            return Err(self.error("a truncated \\u escape"));
        };
        let mut value = 0;
        for &digit in digits {
            let nibble = (digit as char)
                .to_digit(16)
                .ok_or_else(|| self.error("a \\u escape with a non-hex digit"))?;
            value = value * 16 + nibble;
        }
        self.pos += 4;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(text: &str) -> bool {
        parse_object(text.as_bytes()).is_ok()
    }

    #[test]
    fn accepts_and_rejects_by_the_grammar() {
        let cases: &[(&str, bool)] = &[
            ("{}", true),
            (" {\"a\": [1, -2.5e3, true, false, null, \"x\"]} \r\n", true),
            ("[]", false),
            ("1", false),
            ("{} {}", false),
            ("{\"a\": NaN}", false),
            ("{\"a\": Infinity}", false),
            ("{\"a\": -Infinity}", false),
            ("{\"a\": 01}", false),
            ("{\"a\": 1.}", false),
            ("{\"a\": .5}", false),
            ("{\"a\": 1e}", false),
            ("{\"a\": +1}", false),
            ("{\"a\" 1}", false),
            ("{\"a\": 1,}", false),
            ("{a: 1}", false),
            ("{\"a\": \"\\ud800\"}", false),
            ("{\"a\": \"\\udc00\"}", false),
            ("{\"a\": \"\\ud83d\\ude00\"}", true),
            ("{\"a\": \"tab\there\"}", false),
            ("{\"a\": \"\u{feff}inside\"}", true),
            ("\u{feff}{}", false),
            ("", false),
            ("{", false),
        ];
        for (text, ok) in cases {
            assert_eq!(parses(text), *ok, "{text:?}");
        }
    }

    #[test]
    fn huge_numbers_parse_as_infinity() {
        let object = parse_object(b"{\"a\": 1e400, \"b\": -1e400, \"c\": 1e-400}").unwrap();
        assert_eq!(object.get("a"), Some(&Json::Number(f64::INFINITY)));
        assert_eq!(object.get("b"), Some(&Json::Number(f64::NEG_INFINITY)));
        assert_eq!(object.get("c"), Some(&Json::Number(0.0)));
    }

    #[test]
    fn repeated_keys_are_seen_and_the_last_value_counts() {
        let object = parse_object(b"{\"a\": 1, \"b\": 2, \"a\": 3}").unwrap();
        assert_eq!(object.repeated_key(), Some("a"));
        assert_eq!(object.get("a"), Some(&Json::Number(3.0)));
    }

    #[test]
    fn escapes_decode() {
        let object = parse_object(br#"{"s": "a\"b\\c\/d\n\u00e9\ud83d\ude00"}"#).unwrap();
        assert_eq!(
            object.get("s"),
            Some(&Json::String(Cow::Owned(
                "a\"b\\c/d\n\u{e9}\u{1F600}".into()
            )))
        );
    }

    #[test]
    fn deep_nesting_neither_overflows_nor_hides_syntax_errors() {
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let object = parse_object(deep.as_bytes()).unwrap();
        let mut value = object.get("a");
        for _ in 0..MAX_DEPTH - 1 {
            value = match value {
                Some(Json::Array(items)) => items.first(),
                other => panic!("expected an array, found {other:?}"),
            };
        }
        assert_eq!(value, Some(&Json::Deep));
        let broken = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(99_999));
        assert!(parse_object(broken.as_bytes()).is_err());
        let objects = format!("{{\"a\": {}1{}}}", "{\"k\": [".repeat(50), "]}".repeat(50));
        assert!(parse_object(objects.as_bytes()).is_ok());
    }

    #[test]
    fn not_utf8_is_an_error_with_its_offset() {
        let error = parse_object(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(error.offset, 7);
    }
}
