//! Splits the program's terminal output into output bytes and the agent's sync markers.

use crate::protocol::SYNC_PREFIX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Output(Vec<u8>),
    Sync(u64),
}

/// Finds sync markers in a byte stream that may cut them anywhere.
#[derive(Default)]
pub struct MarkerFilter {
    pending: Vec<u8>,
}

const END: &[u8] = b"\x1b\\";
/// A marker's number has at most 20 digits; anything longer is not a marker.
const MAX_MARKER: usize = SYNC_PREFIX.len() + 20 + END.len();

impl MarkerFilter {
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Piece> {
        self.pending.extend_from_slice(bytes);
        let mut pieces = Vec::new();
        let mut out = Vec::new();
        let mut i = 0;
        let buf = std::mem::take(&mut self.pending);
        while i < buf.len() {
            if buf[i] != 0x1b {
                out.push(buf[i]);
                i += 1;
                continue;
            }
            let rest = &buf[i..];
            let n = rest.len().min(SYNC_PREFIX.len());
            if rest[..n] != SYNC_PREFIX[..n] {
                out.push(buf[i]);
                i += 1;
                continue;
            }
            if rest.len() < SYNC_PREFIX.len() {
                // A prefix of a marker at the end: wait for more bytes.
                self.pending = rest.to_vec();
                break;
            }
            let body = &rest[SYNC_PREFIX.len()..];
            let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
            let after = &body[digits..];
            if after.len() < END.len() && rest.len() < MAX_MARKER && after == &END[..after.len()] {
                self.pending = rest.to_vec();
                break;
            }
            if digits > 0 && after.starts_with(END) {
                let number = std::str::from_utf8(&body[..digits])
                    .ok()
                    .and_then(|d| d.parse().ok());
                if let Some(number) = number {
                    if !out.is_empty() {
                        pieces.push(Piece::Output(std::mem::take(&mut out)));
                    }
                    pieces.push(Piece::Sync(number));
                    i += SYNC_PREFIX.len() + digits + END.len();
                    continue;
                }
            }
            out.push(buf[i]);
            i += 1;
        }
        if !out.is_empty() {
            pieces.push(Piece::Output(out));
        }
        pieces
    }

    /// What is left when the stream ends (a partial marker that never completed is output).
    pub fn finish(&mut self) -> Option<Piece> {
        let rest = std::mem::take(&mut self.pending);
        (!rest.is_empty()).then_some(Piece::Output(rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::sync_marker;

    fn collect(chunks: &[&[u8]]) -> Vec<Piece> {
        let mut f = MarkerFilter::default();
        let mut all = Vec::new();
        for c in chunks {
            all.extend(f.feed(c));
        }
        all.extend(f.finish());
        // Merge adjacent output pieces so the test does not depend on chunking.
        let mut merged: Vec<Piece> = Vec::new();
        for p in all {
            match (merged.last_mut(), p) {
                (Some(Piece::Output(a)), Piece::Output(b)) => a.extend(b),
                (_, p) => merged.push(p),
            }
        }
        merged
    }

    #[test]
    fn markers_are_found_whole_or_cut_anywhere() {
        let mut stream = b"hello\n".to_vec();
        stream.extend(sync_marker(7));
        stream.extend(b"world\x1b[1m");
        let expected = vec![
            Piece::Output(b"hello\n".to_vec()),
            Piece::Sync(7),
            Piece::Output(b"world\x1b[1m".to_vec()),
        ];
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(collect(&[a, b]), expected, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(collect(&bytes), expected);
    }

    #[test]
    fn lookalikes_pass_through() {
        let text = b"\x1b_sleepy-sync:12x and \x1b_other\x1b\\ \x1b";
        assert_eq!(collect(&[text]), vec![Piece::Output(text.to_vec())]);
    }
}
