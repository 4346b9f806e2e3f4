//! Request input of `ipe eval`: JSON lines (streamed, one output line per input line), a JSON
//! array of requests (streamed element by element) or one pretty-printed JSON object, told
//! apart by the first non-blank line.
//!
//! Memory is bounded: a line (an array element, the one object) longer than the byte cap is
//! read past without being kept and reported as one error.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// The default cap on one request's size in bytes (16 MiB).
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// How the input was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One request per line.
    Lines,
    /// A JSON array of requests.
    Array,
    /// One JSON object spanning several lines.
    Object,
    /// Nothing but blank lines (or nothing at all).
    Empty,
}

/// Where a request came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A 1-based input line.
    Line(usize),
    /// A 1-based element of the input array.
    Element(usize),
    /// The one object of the input.
    Object,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "on line {n}"),
            Place::Element(n) => write!(f, "in array element {n}"),
            Place::Object => f.write_str("in the input object"),
        }
    }
}

/// One unit of input: what gets exactly one output line.
#[derive(Debug)]
pub enum Item<'a> {
    /// A request's JSON text (not parsed yet).
    Request(&'a str),
    /// A blank (or all-whitespace) line.
    Blank,
    /// A request that could not even be read: why (a lowercase phrase).
    Unreadable(String),
}

/// Reads requests from `input`, calling `each` once per unit in order. `idle` is called before
/// every read that may block (flush output there, so decisions appear while input streams).
///
/// Fails only when `input` cannot be read or `each`/`idle` fail (e.g. output is closed).
pub fn read_requests<R: BufRead>(
    input: R,
    max_bytes: usize,
    mut each: impl FnMut(Place, Item<'_>) -> io::Result<()>,
    mut idle: impl FnMut() -> io::Result<()>,
) -> io::Result<Format> {
    let mut lines = Lines::new(input, max_bytes);
    // Leading blank lines: their outputs wait until the format is known.
    let mut blanks = 0usize;
    let first = loop {
        match lines.next(&mut idle)? {
            None => {
                for n in 1..=blanks {
                    each(Place::Line(n), Item::Blank)?;
                }
                return Ok(Format::Empty);
            }
            Some(Line::Kept) if is_blank(&lines.buf) => blanks += 1,
            Some(l) => break l,
        }
    };
    let start = lines.buf.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match (first, start) {
        (Line::Kept, Some(b'[')) => {
            array(lines.into_rest(blanks), max_bytes, each)?;
            Ok(Format::Array)
        }
        (Line::Kept, Some(b'{')) if opens_a_longer_value(&lines.buf) => {
            object(lines.into_rest(blanks), max_bytes, each)?;
            Ok(Format::Object)
        }
        _ => {
            for n in 1..=blanks {
                each(Place::Line(n), Item::Blank)?;
            }
            lines.number = blanks;
            let mut line = Some(first);
            while let Some(l) = line {
                lines.number += 1;
                each(Place::Line(lines.number), lines.item(l))?;
                line = lines.next(&mut idle)?;
            }
            Ok(Format::Lines)
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Whether `line` is the start of a JSON value that continues on the next lines.
fn opens_a_longer_value(line: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<serde::de::IgnoredAny>(line),
        Err(e) if e.classify() == serde_json::error::Category::Eof
    )
}

/// How a line ended up.
#[derive(Clone, Copy, Debug)]
enum Line {
    /// The line is in the buffer (without its end of line).
    Kept,
    /// The line was longer than the cap; it was consumed without being kept.
    TooLong,
}

/// A line reader with a length cap.
struct Lines<R> {
    r: R,
    buf: Vec<u8>,
    max: usize,
    /// Lines handed out so far (blank leading lines included once counted).
    number: usize,
    /// Everything read so far was consumed: the next `fill_buf` may block.
    drained: bool,
}

impl<R: BufRead> Lines<R> {
    fn new(r: R, max: usize) -> Self {
        Lines {
            r,
            buf: Vec::new(),
            max,
            number: 0,
            drained: true,
        }
    }

    /// The next line, or `None` at the end of input.
    fn next(&mut self, idle: &mut impl FnMut() -> io::Result<()>) -> io::Result<Option<Line>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            if self.drained {
                idle()?;
            }
            let avail = match self.r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(any.then_some(if too_long { Line::TooLong } else { Line::Kept }));
            }
            any = true;
            let newline = avail.iter().position(|&b| b == b'\n');
            let (chunk, used) = match newline {
                Some(i) => (avail.get(..i).unwrap_or_default(), i + 1),
                None => (avail, avail.len()),
            };
            if !too_long {
                if self.buf.len().saturating_add(chunk.len()) > self.max {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.drained = used == avail.len();
            self.r.consume(used);
            if newline.is_some() {
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                return Ok(Some(if too_long { Line::TooLong } else { Line::Kept }));
            }
        }
    }

    /// The output unit of the line just read.
    fn item(&self, line: Line) -> Item<'_> {
        match line {
            Line::TooLong => Item::Unreadable(format!(
                "longer than {} bytes (raise it with `--max-line-bytes`)",
                self.max
            )),
            Line::Kept => match std::str::from_utf8(&self.buf) {
                Ok(s) if s.trim().is_empty() => Item::Blank,
                Ok(s) => Item::Request(s),
                Err(e) => {
                    Item::Unreadable(format!("invalid UTF-8 at column {}", e.valid_up_to() + 1))
                }
            },
        }
    }

    /// The rest of the input, starting with the line just read (and the `blanks` blank lines
    /// before it, so positions in messages stay right).
    fn into_rest(self, blanks: usize) -> impl Read {
        let mut head = vec![b'\n'; blanks];
        head.extend_from_slice(&self.buf);
        head.push(b'\n');
        io::Cursor::new(head).chain(self.r)
    }
}

/// A reader failing once more than `max` bytes were read since `count` was last reset.
struct Capped<R> {
    r: R,
    count: Rc<Cell<usize>>,
    max: usize,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        let total = self.count.get().saturating_add(n);
        self.count.set(total);
        if total > self.max {
            return Err(io::Error::other(format!(
                "longer than {} bytes (raise it with `--max-line-bytes`)",
                self.max
            )));
        }
        Ok(n)
    }
}

/// A JSON array of requests, streamed: each element is parsed (with a repeated key rejected)
/// and handed on as text. A syntax error ends the array (there is no resynchronising inside
/// JSON); it is reported as the unit of the element it occurred in.
fn array(
    rest: impl Read,
    max: usize,
    mut each: impl FnMut(Place, Item<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let count = Rc::new(Cell::new(0));
    let reader = Capped {
        r: rest,
        count: Rc::clone(&count),
        max,
    };
    // Unbuffered on purpose (the input under it is buffered): the cap counts exact bytes.
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut n = 0usize;
    let mut out_err: Option<io::Error> = None;
    let mut on_element = |v: serde_json::Value| {
        n += 1;
        count.set(0);
        let text = v.to_string();
        match each(Place::Element(n), Item::Request(&text)) {
            Ok(()) => true,
            Err(e) => {
                out_err = Some(e);
                false
            }
        }
    };
    let visitor = ArrayVisitor {
        each: &mut on_element,
        count: &count,
    };
    let parsed = serde::Deserializer::deserialize_seq(&mut de, visitor).and_then(|()| de.end());
    if let Some(e) = out_err {
        return Err(e);
    }
    match parsed {
        Ok(()) => Ok(()),
        Err(e) if input_failed(&e) => Err(io::Error::other(e)),
        Err(e) => each(Place::Element(n + 1), Item::Unreadable(e.to_string())),
    }
}

/// Whether a parse error is the input failing to be read (not bad JSON, not the cap).
fn input_failed(e: &serde_json::Error) -> bool {
    // Only the cap reports `Other`.
    e.io_error_kind().is_some_and(|k| k != io::ErrorKind::Other)
}

struct ArrayVisitor<'f, F: FnMut(serde_json::Value) -> bool> {
    each: &'f mut F,
    count: &'f Cell<usize>,
}

impl<'de, F: FnMut(serde_json::Value) -> bool> serde::de::Visitor<'de> for ArrayVisitor<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of requests")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.count.set(0);
        while let Some(v) = seq.next_element_seed(ipe_host::request::CheckedValue)? {
            if !(self.each)(v) {
                return Err(serde::de::Error::custom("output closed"));
            }
        }
        Ok(())
    }
}

/// One JSON object spanning lines, read whole (up to the cap) and handed on as text.
fn object(
    rest: impl Read,
    max: usize,
    mut each: impl FnMut(Place, Item<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let mut text = Vec::new();
    rest.take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut text)?;
    if text.len() > max {
        let why = format!("longer than {max} bytes (raise it with `--max-line-bytes`)");
        return each(Place::Object, Item::Unreadable(why));
    }
    match std::str::from_utf8(&text) {
        Ok(s) => each(Place::Object, Item::Request(s)),
        Err(e) => {
            let line = text
                .get(..e.valid_up_to())
                .unwrap_or_default()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            each(
                Place::Object,
                Item::Unreadable(format!("invalid UTF-8 on line {line}")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(input: &[u8], max: usize) -> (Format, Vec<String>) {
        let mut out = Vec::new();
        let f = read_requests(
            input,
            max,
            |p, i| {
                out.push(format!("{p}: {i:?}"));
                Ok(())
            },
            || Ok(()),
        )
        .expect("reads");
        (f, out)
    }

    #[test]
    fn issue11_lines_are_one_to_one_with_blank_and_bad_lines() {
        let (f, u) = units(b"\n{\"a\":1}\n\n\xff{}\n{\"a\":2}\r\n", 64);
        assert_eq!(f, Format::Lines);
        assert_eq!(
            u,
            [
                "on line 1: Blank",
                "on line 2: Request(\"{\\\"a\\\":1}\")",
                "on line 3: Blank",
                "on line 4: Unreadable(\"invalid UTF-8 at column 1\")",
                "on line 5: Request(\"{\\\"a\\\":2}\")",
            ]
        );
    }

    #[test]
    fn issue11_a_line_over_the_cap_is_one_error_and_the_next_line_is_read() {
        let long = format!("{{\"a\":\"{}\"}}\n{{}}\n", "x".repeat(100));
        let (_, u) = units(long.as_bytes(), 16);
        assert_eq!(u.len(), 2, "{u:?}");
        assert!(u[0].contains("longer than 16 bytes"), "{u:?}");
        assert_eq!(u[1], "on line 2: Request(\"{}\")");
    }

    #[test]
    fn issue11_a_pretty_object_is_one_request() {
        let (f, u) = units(b"\n{\n  \"a\": 1,\n  \"b\": [1,\n 2]\n}\n", 1024);
        assert_eq!(f, Format::Object);
        assert_eq!(u.len(), 1, "{u:?}");
        assert!(u[0].starts_with("in the input object: Request("), "{u:?}");
    }

    #[test]
    fn issue11_an_array_streams_its_elements() {
        let (f, u) = units(b"[{\"a\": 1},\n 3,\n {\"b\": {}}]\n", 1024);
        assert_eq!(f, Format::Array);
        assert_eq!(
            u,
            [
                "in array element 1: Request(\"{\\\"a\\\":1}\")",
                "in array element 2: Request(\"3\")",
                "in array element 3: Request(\"{\\\"b\\\":{}}\")",
            ]
        );
        let (_, u) = units(b"[{\"a\": 1}, {\"a\": 1, \"a\": 2}, {}]", 1024);
        assert_eq!(u.len(), 2, "{u:?}");
        assert!(u[1].contains("duplicate key `a`"), "{u:?}");
    }
}
