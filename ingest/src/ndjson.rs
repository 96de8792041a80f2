//! Reading NDJSON files line by line, by the contract's rules.
//!
//! Lines end in `\n` or `\r\n`; the last may lack its newline; a UTF-8 byte-order mark at the
//! very start of the file is ignored; a line of only spaces, tabs and carriage returns is blank
//! and is no message, but every line counts in the numbering. A line is never held in memory
//! beyond the 1 MiB limit plus one byte, whatever its length, so a huge line cannot exhaust
//! memory: it is read through and reported as too large.

use std::io::{self, BufRead};

use outcomes_schemas::MAX_MESSAGE_BYTES;

/// One line of an NDJSON file.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Only whitespace: not a message.
    Blank,
    /// A message value (the line without its terminator; over the limit, only its start).
    Message(&'a [u8]),
}

/// Reads an NDJSON stream line by line.
pub struct NdjsonReader<R> {
    reader: R,
    number: i64,
    bytes_read: u64,
    buffer: Vec<u8>,
}

impl<R: BufRead> NdjsonReader<R> {
    /// A reader over `reader`, positioned at the start of a file.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            number: 0,
            bytes_read: 0,
            buffer: Vec::new(),
        }
    }

    /// Bytes consumed so far, for progress reporting.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next line and its 1-based number, or `None` at the end of the file.
    pub fn next_line(&mut self) -> io::Result<Option<(i64, Line<'_>)>> {
        if self.number == 0 && self.reader.fill_buf()?.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.reader.consume(3);
            self.bytes_read += 3;
        }
        self.buffer.clear();
        let mut saw_any = false;
        let mut length = 0usize;
        let mut blank = true;
        let mut last_byte = None;
        let mut ended = false;
        while !ended {
            let chunk = self.reader.fill_buf()?;
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
            self.reader.consume(take);
            self.bytes_read += take as u64;
            ended = found;
        }
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
        Ok(Some((self.number, Line::Message(&self.buffer))))
    }
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
                    Line::Message(bytes) => Some(bytes.to_vec()),
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
}
