//! Counting the bytes a decompressor consumes and produces, to stop zip
//! bombs as they expand (no header is trusted).

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

use super::{ArchiveLimit, RATIO_FLOOR};
use crate::input::SkipReason;

/// A limit a [`Meter`] hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Hit {
    what: ArchiveLimit,
    limit: u64,
}

impl Hit {
    pub(super) fn new(what: ArchiveLimit, limit: u64) -> Hit {
        Hit { what, limit }
    }

    pub(super) fn reason(self) -> SkipReason {
        SkipReason::ArchiveLimit {
            what: self.what,
            limit: self.limit,
        }
    }
}

/// A reader (or seekable reader) that counts the bytes read through it
/// into a shared cell.
pub(super) struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R> Counting<R> {
    pub(super) fn new(inner: R, count: Rc<Cell<u64>>) -> Counting<R> {
        Counting { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Wraps a decompressor: fails once it has produced more than `max_out`
/// bytes, or more than `ratio` times the compressed bytes consumed so far
/// (counted in `input`, past the first [`RATIO_FLOOR`] bytes). Once failed
/// it keeps failing, and the hit is left in `trip` for the caller to report.
pub(super) struct Meter<R> {
    inner: R,
    input: Rc<Cell<u64>>,
    input_base: u64,
    out: u64,
    ratio: u64,
    max_out: u64,
    bytes_limit: u64,
    hit: Option<Hit>,
    trip: Rc<Cell<Option<Hit>>>,
}

impl<R: Read> Meter<R> {
    pub(super) fn new(
        inner: R,
        input: Rc<Cell<u64>>,
        ratio: u64,
        max_out: u64,
        bytes_limit: u64,
        trip: Rc<Cell<Option<Hit>>>,
    ) -> Meter<R> {
        let input_base = input.get();
        Meter {
            inner,
            input,
            input_base,
            out: 0,
            ratio,
            max_out,
            bytes_limit,
            hit: None,
            trip,
        }
    }

    fn fail(&mut self, hit: Hit) -> io::Error {
        self.hit = Some(hit);
        self.trip.set(Some(hit));
        io::Error::other("archive limit reached")
    }
}

impl<R: Read> Read for Meter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(hit) = self.hit {
            return Err(self.fail(hit));
        }
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.max_out {
            return Err(self.fail(Hit::new(ArchiveLimit::Bytes, self.bytes_limit)));
        }
        let consumed = (self.input.get() - self.input_base).max(1);
        if self.out > RATIO_FLOOR && self.out > self.ratio.saturating_mul(consumed) {
            return Err(self.fail(Hit::new(ArchiveLimit::Ratio, self.ratio)));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_output_are_bounded() {
        let trip = Rc::new(Cell::new(None));
        let input = Rc::new(Cell::new(0));
        // An endless source of zeros that "consumed" one byte.
        input.set(1);
        let input_at_start = Rc::clone(&input);
        let mut m = Meter::new(
            io::repeat(0),
            input_at_start,
            100,
            u64::MAX,
            7,
            Rc::clone(&trip),
        );
        input.set(2);
        let err = io::copy(&mut m, &mut io::sink()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert_eq!(trip.get(), Some(Hit::new(ArchiveLimit::Ratio, 100)));
        assert!(m.read(&mut [0; 8]).is_err(), "stays failed");

        let trip = Rc::new(Cell::new(None));
        let mut m = Meter::new(
            io::repeat(0),
            Rc::new(Cell::new(0)),
            u64::MAX,
            10,
            7,
            Rc::clone(&trip),
        );
        let mut buf = Vec::new();
        assert!(m.read_to_end(&mut buf).is_err());
        assert_eq!(trip.get(), Some(Hit::new(ArchiveLimit::Bytes, 7)));
    }
}
