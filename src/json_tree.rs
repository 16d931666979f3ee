//! JSON trees with exact numbers, without a third serializer: `json_tree` writes a value
//! as JSON text (the writer every scenario type already has, for links and the CLI) and
//! reads the text back into a `serde_json::Value` with its own small reader.
//!
//! Why not `serde_json::to_value`: it instantiates a serializer into `Value` for every
//! scenario type, about 40 KB of the wasm module. Why not `serde_json::from_str`: without
//! its `float_roundtrip` feature serde_json may read a full-precision float one unit in the
//! last place off, and a tree must hold exactly the numbers of the value it came from.
//! Here floats are read by the standard library's correctly rounded parser, so every
//! finite double comes back bit for bit (a test checks 20,000 random ones).
//!
//! The reader takes only what serde_json writes (compact, valid JSON); anything else is a
//! broken invariant and panics.

use serde_json::{Map, Number, Value};

/// `value` as a JSON tree, equal to what `serde_json::to_value` would give.
pub fn json_tree<T: serde::Serialize>(value: &T) -> Value {
    let text = serde_json::to_vec(value).expect("the engine's types always serialize");
    let mut reader = Reader { text: &text, at: 0 };
    let tree = reader.value();
    assert_eq!(reader.at, text.len(), "json_tree: trailing text after the value");
    tree
}

struct Reader<'a> {
    text: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> u8 {
        self.text[self.at]
    }

    fn expect_byte(&mut self, b: u8) {
        assert_eq!(self.peek(), b, "json_tree: expected `{}` at {}", b as char, self.at);
        self.at += 1;
    }

    fn value(&mut self) -> Value {
        match self.peek() {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => Value::String(self.string()),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            _ => Value::Number(self.number()),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Value {
        assert!(
            self.text[self.at..].starts_with(word.as_bytes()),
            "json_tree: bad literal"
        );
        self.at += word.len();
        value
    }

    fn object(&mut self) -> Value {
        let mut map = Map::new();
        self.list(b'{', b'}', |r| {
            let key = r.string();
            r.expect_byte(b':');
            map.insert(key, r.value());
        });
        Value::Object(map)
    }

    fn array(&mut self) -> Value {
        let mut items = Vec::new();
        self.list(b'[', b']', |r| items.push(r.value()));
        Value::Array(items)
    }

    /// Reads `open`, items separated by commas (each read by `item`), and `close`.
    fn list(&mut self, open: u8, close: u8, mut item: impl FnMut(&mut Self)) {
        self.expect_byte(open);
        if self.peek() == close {
            self.at += 1;
            return;
        }
        loop {
            item(self);
            match self.peek() {
                b',' => self.at += 1,
                _ => break,
            }
        }
        self.expect_byte(close);
    }

    fn string(&mut self) -> String {
        self.expect_byte(b'"');
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek();
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => self.escape(&mut out),
                _ => out.push(b),
            }
        }
        String::from_utf8(out).expect("json_tree: serde_json writes UTF-8")
    }

    fn escape(&mut self, out: &mut Vec<u8>) {
        let b = self.peek();
        self.at += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode(),
            _ => panic!("json_tree: bad escape `\\{}`", b as char),
        };
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }

    /// `\uXXXX`, or a surrogate pair of two (serde_json escapes only control characters,
    /// but a pair is read correctly too).
    fn unicode(&mut self) -> char {
        let first = self.hex4();
        let code = if (0xD800..0xDC00).contains(&first) {
            self.expect_byte(b'\\');
            self.expect_byte(b'u');
            let second = self.hex4();
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).expect("json_tree: a valid code point")
    }

    fn hex4(&mut self) -> u32 {
        let digits = std::str::from_utf8(&self.text[self.at..self.at + 4]).expect("ASCII");
        self.at += 4;
        u32::from_str_radix(digits, 16).expect("json_tree: four hex digits")
    }

    fn number(&mut self) -> Number {
        let start = self.at;
        while self.at < self.text.len() && matches!(self.peek(), b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.text[start..self.at]).expect("ASCII");
        assert!(
            !text.is_empty(),
            "json_tree: unexpected `{}` at {start}",
            self.text[start] as char
        );
        let float = text.contains(['.', 'e', 'E']);
        if !float {
            if let Ok(n) = text.parse::<u64>() {
                return Number::from(n);
            }
            if let Ok(n) = text.parse::<i64>() {
                return Number::from(n);
            }
        }
        let x: f64 = text.parse().expect("json_tree: a number");
        Number::from_f64(x).expect("json_tree: serde_json writes only finite floats")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_equals_serde_jsons_for_every_preset() {
        for p in crate::presets::PRESETS {
            let s = (p.build)();
            assert_eq!(json_tree(&s), serde_json::to_value(&s).unwrap(), "preset {}", p.name);
        }
        let odd = (
            "tab\there \"quoted\" \\ é ✓ \u{1}",
            -3i64,
            u64::MAX,
            [0.5, -0.0, 1e300],
            ((), true),
        );
        assert_eq!(json_tree(&odd), serde_json::to_value(odd).unwrap());
    }

    #[test]
    fn every_finite_double_comes_back_bit_for_bit() {
        let mut rng = crate::rng::Rng::from_seed(11);
        let xs: Vec<f64> = (0..20_000)
            .map(|_| f64::from_bits(rng.next_u64()))
            .filter(|x| x.is_finite())
            .collect();
        let tree = json_tree(&xs);
        for (v, x) in tree.as_array().unwrap().iter().zip(&xs) {
            assert_eq!(v.as_f64().unwrap().to_bits(), x.to_bits(), "{x:e}");
        }
    }
}
