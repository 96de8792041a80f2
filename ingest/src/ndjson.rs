//! Reading NDJSON files line by line, by the contract's rules.
//!
//! Lines end in `\n` or `\r\n`; the last may lack its newline; a UTF-8 byte-order mark at the
//! very start of the file is ignored; a line of only spaces, tabs and carriage returns is blank
//! and is no message, but every line counts in the numbering. A line is never held in memory
//! beyond the 1 MiB limit plus one byte, whatever its length, so a huge line cannot exhaust
//! memory: it is read through and reported as too large.
//!
//! Two things make a file not a clean NDJSON file, and both are said rather than guessed at: a
//! file that is not text at all (compressed, Parquet, anything holding a NUL byte, UTF-16) is
//! refused whole, and a last line that ends inside a JSON value (a file still being written, or
//! cut off) is no message yet, so that loading the grown file later reads it whole.

use std::io::{self, BufRead};

use outcomes_schemas::MAX_MESSAGE_BYTES;

/// One line of an NDJSON file.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Only whitespace: not a message.
    Blank,
    /// A message value (the line without its terminator; over the limit, only its start).
    Message(&'a [u8]),
    /// The file's last line, without a line break, ending inside a JSON value.
    Incomplete(&'a [u8]),
}

/// What a file's first bytes show it to be when that is not UTF-8 text: no JSON text starts
/// with these magic numbers or holds a NUL byte.
fn not_text(head: &[u8]) -> Option<String> {
    const MAGIC: [(&[u8], &str); 8] = [
        (&[0x1f, 0x8b], "gzip-compressed data; decompress it first"),
        (
            &[0x28, 0xb5, 0x2f, 0xfd],
            "zstd-compressed data; decompress it first",
        ),
        (b"BZh", "bzip2-compressed data; decompress it first"),
        (
            &[0xfd, b'7', b'z', b'X', b'Z', 0],
            "xz-compressed data; decompress it first",
        ),
        (b"PK\x03\x04", "a zip archive; unpack it first"),
        (b"PAR1", "a Parquet file, not NDJSON"),
        (&[0xff, 0xfe], "UTF-16 text; NDJSON files are UTF-8"),
        (&[0xfe, 0xff], "UTF-16 text; NDJSON files are UTF-8"),
    ];
    if let Some((_, what)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some((*what).to_owned());
    }
    head.iter()
        .position(|&b| b == 0)
        .map(|at| format!("binary data (a NUL byte at byte {at})"))
}

/// Reads an NDJSON stream line by line.
pub struct NdjsonReader<R> {
    reader: R,
    number: i64,
    bytes_read: u64,
    buffer: Vec<u8>,
    /// The stream's first bytes once read to look for a byte-order mark (`None` before), and
    /// then what of them is still to be read as the start of the first line.
    head: Option<Vec<u8>>,
}

/// The UTF-8 byte-order mark.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl<R: BufRead> NdjsonReader<R> {
    /// A reader over `reader`, positioned at the start of a file.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            number: 0,
            bytes_read: 0,
            buffer: Vec::new(),
            head: None,
        }
    }

    /// Reads the first three bytes, however the reader delivers them (a pipe may give one at a
    /// time): a byte-order mark is dropped, anything else starts the first line.
    fn read_head(&mut self) -> io::Result<Vec<u8>> {
        let mut head = Vec::with_capacity(BOM.len());
        while head.len() < BOM.len() {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let take = chunk.len().min(BOM.len() - head.len());
            head.extend_from_slice(&chunk[..take]);
            self.reader.consume(take);
        }
        self.bytes_read += head.len() as u64;
        if head == BOM {
            head.clear();
        }
        Ok(head)
    }

    /// Why the file is not NDJSON text, judged from its first bytes (read ahead, not consumed);
    /// `None` for text.
    pub fn not_text(&mut self) -> io::Result<Option<String>> {
        Ok(not_text(self.reader.fill_buf()?))
    }

    /// Bytes consumed so far, for progress reporting.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next line and its 1-based number, or `None` at the end of the file.
    pub fn next_line(&mut self) -> io::Result<Option<(i64, Line<'_>)>> {
        let head = match self.head.take() {
            Some(head) => head,
            None => self.read_head()?,
        };
        let mut pending = &head[..];
        self.buffer.clear();
        let mut saw_any = false;
        let mut length = 0usize;
        let mut blank = true;
        let mut last_byte = None;
        let mut ended = false;
        while !ended {
            let from_head = !pending.is_empty();
            let chunk = if from_head {
                pending
            } else {
                self.reader.fill_buf()?
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let (take, found) = match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => (at + 1, true),
                None => (chunk.len(), false),
            };
            let content = &chunk[..if found { take - 1 } else { take }];
            length += content.len();
            blank &= content.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
            last_byte = content.last().copied().or(last_byte);
            let room = (MAX_MESSAGE_BYTES + 1).saturating_sub(self.buffer.len());
            self.buffer
                .extend_from_slice(&content[..content.len().min(room)]);
            if from_head {
                pending = &pending[take..];
            } else {
                self.reader.consume(take);
                self.bytes_read += take as u64;
            }
            ended = found;
        }
        self.head = Some(pending.to_vec());
        if !saw_any {
            return Ok(None);
        }
        self.number += 1;
        if blank {
            return Ok(Some((self.number, Line::Blank)));
        }
        // In a "\r\n" terminator the '\r' belongs to the terminator, not to the value.
        if ended && last_byte == Some(b'\r') {
            length -= 1;
            if self.buffer.len() > length {
                self.buffer.truncate(length);
            }
        }
        if !ended && length <= MAX_MESSAGE_BYTES && ends_inside_a_value(&self.buffer) {
            return Ok(Some((self.number, Line::Incomplete(&self.buffer))));
        }
        Ok(Some((self.number, Line::Message(&self.buffer))))
    }
}

/// Whether `line` is the start of a JSON text cut off before its end (rather than complete, or
/// wrong where it stops).
fn ends_inside_a_value(line: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(line).is_err_and(|error| error.is_eof())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<(i64, Option<Vec<u8>>)> {
        let mut reader = NdjsonReader::new(input);
        let mut out = Vec::new();
        while let Some((number, line)) = reader.next_line().unwrap() {
            out.push((
                number,
                match line {
                    Line::Blank => None,
                    Line::Message(bytes) | Line::Incomplete(bytes) => Some(bytes.to_vec()),
                },
            ));
        }
        out
    }

    #[test]
    fn numbers_every_line_and_skips_blanks() {
        let got = lines(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n \t\r\n{\"b\":2}\n\n{\"c\":3}");
        assert_eq!(
            got,
            vec![
                (1, Some(b"{\"a\":1}".to_vec())),
                (2, None),
                (3, None),
                (4, Some(b"{\"b\":2}".to_vec())),
                (5, None),
                (6, Some(b"{\"c\":3}".to_vec())),
            ]
        );
    }

    #[test]
    fn a_bom_after_the_first_line_is_kept() {
        let got = lines(b"{}\n\xEF\xBB\xBF{}\n");
        assert_eq!(got[1], (2, Some(b"\xEF\xBB\xBF{}".to_vec())));
    }

    #[test]
    fn only_one_carriage_return_belongs_to_the_terminator() {
        assert_eq!(lines(b"{}\r\r\n"), vec![(1, Some(b"{}\r".to_vec()))]);
    }

    #[test]
    fn the_limit_applies_without_the_terminator() {
        let exactly = vec![b' '; MAX_MESSAGE_BYTES - 2];
        let mut input = b"{".to_vec();
        input.extend(&exactly);
        input.extend(b"}\r\n");
        let got = lines(&input);
        assert_eq!(got[0].1.as_ref().map(Vec::len), Some(MAX_MESSAGE_BYTES));

        let mut huge = vec![b'x'; 3 * MAX_MESSAGE_BYTES];
        huge.extend(b"\n{}\n");
        let got = lines(&huge);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.as_ref().map(Vec::len), Some(MAX_MESSAGE_BYTES + 1));
        assert_eq!(got[1], (2, Some(b"{}".to_vec())));
    }

    #[test]
    fn a_long_blank_line_is_blank() {
        let mut input = vec![b' '; 2 * MAX_MESSAGE_BYTES];
        input.push(b'\n');
        assert_eq!(lines(&input), vec![(1, None)]);
    }

    #[test]
    fn a_last_line_cut_off_inside_a_value_is_incomplete() {
        let mut reader = NdjsonReader::new(&b"{\"a\":1}\n{\"b\":\"two"[..]);
        assert_eq!(
            reader.next_line().unwrap(),
            Some((1, Line::Message(b"{\"a\":1}")))
        );
        assert_eq!(
            reader.next_line().unwrap(),
            Some((2, Line::Incomplete(b"{\"b\":\"two")))
        );
        // Complete without its line break, or wrong before its end: a message.
        for last in [&b"{\"b\":2}"[..], b"{\"b\":2}}", b"not json"] {
            let mut reader = NdjsonReader::new(last);
            assert_eq!(reader.next_line().unwrap(), Some((1, Line::Message(last))));
        }
        // With its line break, a cut-off value is a (bad) message: the writer ended the line.
        let mut reader = NdjsonReader::new(&b"{\"b\":\"two\n"[..]);
        assert_eq!(
            reader.next_line().unwrap(),
            Some((1, Line::Message(b"{\"b\":\"two")))
        );
    }

    #[test]
    fn files_that_are_not_text_are_named_by_what_they_are() {
        let kind = |bytes: &[u8]| NdjsonReader::new(bytes).not_text().unwrap();
        assert_eq!(kind(b"{\"a\":1}\n"), None);
        assert!(kind(&[0x1f, 0x8b, 8, 0]).unwrap().starts_with("gzip"));
        assert!(kind(b"PAR1\x15\x04").unwrap().contains("Parquet"));
        assert_eq!(
            kind(b"{\"a\":\x00}").unwrap(),
            "binary data (a NUL byte at byte 5)"
        );
        // A UTF-8 byte-order mark is text.
        assert_eq!(kind(b"\xEF\xBB\xBF{}"), None);
    }

    /// The lines of `input` worked out without the reader: split at `\n`, a first BOM dropped,
    /// one `\r` before a `\n` dropped, blank lines blank, a cut-off last value incomplete.
    fn expected(input: &[u8]) -> Vec<(i64, Option<Vec<u8>>, bool)> {
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let mut segments: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        let terminated_last = segments.last().is_some_and(|s| s.is_empty());
        if terminated_last {
            segments.pop();
        }
        let count = segments.len();
        segments
            .into_iter()
            .enumerate()
            .map(|(i, segment)| {
                let number = i as i64 + 1;
                let terminated = i + 1 < count || terminated_last;
                if segment.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                    return (number, None, false);
                }
                let value = if terminated {
                    segment.strip_suffix(b"\r").unwrap_or(segment)
                } else {
                    segment
                };
                let incomplete = !terminated && ends_inside_a_value(value);
                (number, Some(value.to_vec()), incomplete)
            })
            .collect()
    }

    /// Fuzzing the NDJSON framing (issue 13): inputs rich in line breaks, carriage returns,
    /// blanks, byte-order marks and JSON punctuation, read through buffers of 1 to 8 bytes, so
    /// that every line end falls on every chunk boundary. The lines equal the ones worked out
    /// above, whatever the buffer size. Runs a few seconds in the suite;
    /// `OUTCOMES_FUZZ_SECONDS=600` runs it longer (docs/RELIABILITY.md).
    #[test]
    fn framing_holds_for_every_input_and_every_read_size() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};

        let byte = prop_oneof![
            3 => proptest::sample::select(b"\n\r \t{}\":,ab1".to_vec()),
            1 => proptest::sample::select(vec![0xEF, 0xBB, 0xBF]),
            1 => any::<u8>(),
        ];
        let inputs = (proptest::collection::vec(byte, 0..200), 1usize..=8);
        let seconds = std::env::var("OUTCOMES_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        let mut tried = 0u64;
        while std::time::Instant::now() < deadline {
            let mut runner = TestRunner::new(Config {
                cases: 5_000,
                failure_persistence: None,
                ..Config::default()
            });
            let outcome = runner.run(&inputs, |(input, capacity)| {
                let mut reader =
                    NdjsonReader::new(std::io::BufReader::with_capacity(capacity, &input[..]));
                let mut got = Vec::new();
                while let Some((number, line)) = reader.next_line().unwrap() {
                    got.push(match line {
                        Line::Blank => (number, None, false),
                        Line::Message(bytes) => (number, Some(bytes.to_vec()), false),
                        Line::Incomplete(bytes) => (number, Some(bytes.to_vec()), true),
                    });
                }
                prop_assert_eq!(got, expected(&input));
                prop_assert_eq!(reader.bytes_read(), input.len() as u64);
                Ok(())
            });
            if let Err(failure) = outcome {
                panic!("{failure}");
            }
            tried += 5_000;
        }
        println!("framing fuzzed with {tried} inputs in {seconds} s");
    }
}
