//! Makes the `:authority` that grpc-core clients send over a Unix socket
//! acceptable to the HTTP/2 server.
//!
//! grpc-core (Python's `grpcio`, and the Ruby, PHP and C++ bindings) names a
//! `unix:/run/user/1000/podauth/agent.sock` target by its percent-encoded path
//! and sends that as the `:authority` of every call, for example
//! `run%2Fuser%2F1000%2Fpodauth%2Fagent.sock`. The h2 server refuses a `%` in
//! a host and resets the stream before any service sees the request, so such
//! a client got `INTERNAL: RST_STREAM` for every call.
//!
//! [`AuthorityFix`] sits between the socket and the HTTP/2 server. In each
//! header block the client sends it replaces, in an `:authority` value, every
//! byte that an RFC 3986 authority cannot hold with `-`, so the path above
//! arrives as `run-2Fuser-2F1000-2Fpodauth-2Fagent.sock`. The value keeps its
//! length, which keeps the HPACK dynamic tables of both ends in step: a later
//! request that refers to the table entry gets the rewritten value, and no
//! HPACK encoder is needed. Only values sent as plain literals are touched;
//! grpc-core never Huffman-codes them. The daemon does not read the
//! authority, and every other byte of the connection passes unchanged.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tonic::transport::server::{Connected, UdsConnectInfo};

/// The HTTP/2 client connection preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER_LEN: usize = 9;
const FRAME_HEADERS: u8 = 0x1;
const FRAME_CONTINUATION: u8 = 0x9;
const FLAG_PADDED: u8 = 0x8;
const FLAG_PRIORITY: u8 = 0x20;
const PRIORITY_LEN: usize = 5;
/// `:authority` is entry 1 of the HPACK static table (RFC 7541, appendix A).
const STATIC_AUTHORITY: usize = 1;
const AUTHORITY: &[u8] = b":authority";
/// `:authority` Huffman-coded (RFC 7541, appendix B), as a client may send
/// a literal name.
const AUTHORITY_HUFFMAN: &[u8] = &[0xb8, 0x3b, 0x53, 0x39, 0xec, 0x32, 0x7d, 0x7f];
/// Integers longer than this are not HPACK a client would send; give up.
const MAX_INTEGER_SHIFT: u32 = 28;

/// A client connection whose request header blocks get a valid
/// `:authority`; writes pass straight through.
#[derive(Debug)]
pub struct AuthorityFix<S> {
    inner: S,
    scanner: Scanner,
}

impl<S> AuthorityFix<S> {
    /// Wraps a freshly accepted connection.
    pub fn new(inner: S) -> Self {
        Self { inner, scanner: Scanner::default() }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for AuthorityFix<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        self.scanner.scan(&mut buf.filled_mut()[before..]);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for AuthorityFix<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl Connected for AuthorityFix<UnixStream> {
    type ConnectInfo = UdsConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

/// Where the scanner is in the HTTP/2 frame stream from the client.
#[derive(Debug)]
enum Frame {
    /// Bytes of the connection preface seen so far.
    Preface(usize),
    /// A frame header being read.
    Header { bytes: [u8; FRAME_HEADER_LEN], len: usize },
    /// Payload bytes of a frame without a header block.
    Skip(usize),
    /// The pad length byte of a padded HEADERS frame.
    PadLength { payload: usize, priority: bool },
    /// Stream dependency and weight of a HEADERS frame.
    Priority { left: usize, fragment: usize, pad: usize },
    /// Header block fragment bytes, then padding.
    Block { fragment: usize, pad: usize },
    /// Not an HTTP/2 stream this scanner follows: pass everything through.
    Off,
}

/// Where the scanner is inside one HPACK header block.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// The first byte of a field representation.
    Start,
    /// Continuation bytes of a prefixed integer.
    Integer { value: usize, shift: u32, then: Then },
    /// A string length's first byte: Huffman flag and 7-bit prefix.
    StringStart { authority: bool, name: bool },
    /// Bytes of a literal name.
    Name { left: usize, huffman: bool, at: usize, matches: bool },
    /// Bytes of a literal value; `fix` when it is a plain `:authority`.
    Value { left: usize, fix: bool },
}

/// What a finished integer means.
#[derive(Debug, Clone, Copy)]
enum Then {
    /// An indexed field or a table size update: the field is complete.
    Done,
    /// A literal field's name index; 0 means a literal name follows.
    NameIndex,
    /// A string length.
    Length { huffman: bool, authority: bool, name: bool },
}

/// A streaming reader of the client's frames that rewrites `:authority`
/// values in place.
#[derive(Debug)]
struct Scanner {
    frame: Frame,
    field: Field,
}

impl Default for Scanner {
    fn default() -> Self {
        Self { frame: Frame::Preface(0), field: Field::Start }
    }
}

impl Scanner {
    /// Follows `bytes`, the next bytes read from the client, rewriting any
    /// `:authority` value bytes among them.
    fn scan(&mut self, bytes: &mut [u8]) {
        let mut i = 0;
        while i < bytes.len() {
            i += self.step(&mut bytes[i..]);
        }
    }

    /// Consumes at least one byte from the front of `bytes`; returns how many.
    fn step(&mut self, bytes: &mut [u8]) -> usize {
        match &mut self.frame {
            Frame::Off => bytes.len(),
            Frame::Preface(seen) => {
                if bytes[0] != PREFACE[*seen] {
                    self.frame = Frame::Off;
                    return bytes.len();
                }
                *seen += 1;
                if *seen == PREFACE.len() {
                    self.frame = Frame::Header { bytes: [0; FRAME_HEADER_LEN], len: 0 };
                }
                1
            }
            Frame::Header { bytes: header, len } => {
                header[*len] = bytes[0];
                *len += 1;
                if *len == FRAME_HEADER_LEN {
                    let header = *header;
                    self.frame = self.frame_after_header(&header);
                }
                1
            }
            Frame::Skip(left) => {
                let n = (*left).min(bytes.len());
                *left -= n;
                if *left == 0 {
                    self.frame = next_header();
                }
                n
            }
            Frame::PadLength { payload, priority } => {
                let pad = usize::from(bytes[0]);
                let rest = *payload - 1;
                let priority_len = if *priority { PRIORITY_LEN } else { 0 };
                self.frame = match rest.checked_sub(pad + priority_len) {
                    None => Frame::Off,
                    Some(fragment) if *priority => {
                        Frame::Priority { left: PRIORITY_LEN, fragment, pad }
                    }
                    Some(fragment) => block(fragment, pad),
                };
                1
            }
            Frame::Priority { left, fragment, pad } => {
                let n = (*left).min(bytes.len());
                *left -= n;
                if *left == 0 {
                    self.frame = block(*fragment, *pad);
                }
                n
            }
            Frame::Block { fragment: 0, pad } => {
                let n = (*pad).min(bytes.len());
                *pad -= n;
                if *pad == 0 {
                    self.frame = next_header();
                }
                n
            }
            Frame::Block { fragment, pad } => {
                let n = (*fragment).min(bytes.len());
                *fragment -= n;
                let done = *fragment == 0 && *pad == 0;
                let mut j = 0;
                while j < n {
                    j += self.field_step(&mut bytes[j..n]);
                }
                if matches!(self.frame, Frame::Off) {
                    return bytes.len();
                }
                if done {
                    self.frame = next_header();
                }
                n
            }
        }
    }

    /// The state after a complete frame header.
    fn frame_after_header(&mut self, header: &[u8; FRAME_HEADER_LEN]) -> Frame {
        let length = usize::from(header[0]) << 16 | usize::from(header[1]) << 8;
        let length = length | usize::from(header[2]);
        let (kind, flags) = (header[3], header[4]);
        match kind {
            FRAME_HEADERS => {
                // A HEADERS frame starts a new header block.
                self.field = Field::Start;
                let priority = flags & FLAG_PRIORITY != 0;
                if flags & FLAG_PADDED != 0 {
                    if length == 0 {
                        return Frame::Off;
                    }
                    return Frame::PadLength { payload: length, priority };
                }
                match (priority, length.checked_sub(PRIORITY_LEN)) {
                    (false, _) => block(length, 0),
                    (true, Some(fragment)) => {
                        Frame::Priority { left: PRIORITY_LEN, fragment, pad: 0 }
                    }
                    (true, None) => Frame::Off,
                }
            }
            FRAME_CONTINUATION => block(length, 0),
            _ if length == 0 => next_header(),
            _ => Frame::Skip(length),
        }
    }

    /// Consumes at least one byte of a header block fragment.
    fn field_step(&mut self, bytes: &mut [u8]) -> usize {
        let byte = bytes[0];
        match self.field {
            Field::Start => {
                // RFC 7541 section 6: the leading bits say the representation
                // and the width of the integer that follows them.
                let (prefix_bits, then) = if byte & 0x80 != 0 {
                    (7, Then::Done)
                } else if byte & 0x40 != 0 {
                    (6, Then::NameIndex)
                } else if byte & 0x20 != 0 {
                    (5, Then::Done)
                } else {
                    (4, Then::NameIndex)
                };
                self.start_integer(byte, prefix_bits, then);
                1
            }
            Field::Integer { value, shift, then } => {
                if shift > MAX_INTEGER_SHIFT {
                    self.frame = Frame::Off;
                    return bytes.len();
                }
                let value = value + (usize::from(byte & 0x7f) << shift);
                if byte & 0x80 != 0 {
                    self.field = Field::Integer { value, shift: shift + 7, then };
                } else {
                    self.integer_done(value, then);
                }
                1
            }
            Field::StringStart { authority, name } => {
                let huffman = byte & 0x80 != 0;
                self.start_integer(byte, 7, Then::Length { huffman, authority, name });
                1
            }
            Field::Name { left, huffman, at, matches } => {
                let n = left.min(bytes.len());
                let expected = if huffman { AUTHORITY_HUFFMAN } else { AUTHORITY };
                let matches = matches && expected.get(at..at + n) == Some(&bytes[..n]);
                if n == left {
                    self.field = Field::StringStart { authority: matches, name: false };
                } else {
                    self.field = Field::Name { left: left - n, huffman, at: at + n, matches };
                }
                n
            }
            Field::Value { left, fix } => {
                let n = left.min(bytes.len());
                if fix {
                    bytes[..n].iter_mut().filter(|b| !is_authority_byte(**b)).for_each(|b| {
                        *b = b'-';
                    });
                }
                self.field =
                    if n == left { Field::Start } else { Field::Value { left: left - n, fix } };
                n
            }
        }
    }

    /// Starts a prefixed integer whose first byte is `byte`.
    fn start_integer(&mut self, byte: u8, prefix_bits: u32, then: Then) {
        let max = (1usize << prefix_bits) - 1;
        let value = usize::from(byte) & max;
        if value == max {
            self.field = Field::Integer { value, shift: 0, then };
        } else {
            self.integer_done(value, then);
        }
    }

    fn integer_done(&mut self, value: usize, then: Then) {
        self.field = match then {
            Then::Done => Field::Start,
            Then::NameIndex if value == 0 => Field::StringStart { authority: false, name: true },
            Then::NameIndex => {
                Field::StringStart { authority: value == STATIC_AUTHORITY, name: false }
            }
            Then::Length { huffman, name: true, .. } => {
                let expected = if huffman { AUTHORITY_HUFFMAN } else { AUTHORITY };
                let matches = value == expected.len();
                if value == 0 {
                    Field::StringStart { authority: false, name: false }
                } else {
                    Field::Name { left: value, huffman, at: 0, matches }
                }
            }
            Then::Length { huffman, authority, name: false } if value > 0 => {
                Field::Value { left: value, fix: authority && !huffman }
            }
            Then::Length { name: false, .. } => Field::Start,
        };
    }
}

fn next_header() -> Frame {
    Frame::Header { bytes: [0; FRAME_HEADER_LEN], len: 0 }
}

fn block(fragment: usize, pad: usize) -> Frame {
    if fragment == 0 && pad == 0 { next_header() } else { Frame::Block { fragment, pad } }
}

/// Whether `byte` may appear in an RFC 3986 authority as h2 reads it:
/// unreserved, sub-delims, `:`, `@`, `[` and `]`. A `%` is refused by h2
/// outside userinfo and zone ids, so it is not kept either.
fn is_authority_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@[]".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of a connection as grpcio 1.85 sends it for
    /// `unix:/tmp/pa-t/sniff.sock`: preface, SETTINGS, then the HEADERS of
    /// the first call, whose `:authority` is a literal with incremental
    /// indexing and a literal name.
    fn grpcio_connection(authority: &[u8]) -> Vec<u8> {
        let mut block = vec![0x40, 0x05];
        block.extend_from_slice(b":path");
        block.push(0x06);
        block.extend_from_slice(b"/x.Y/Z");
        block.push(0x40);
        block.push(0x0a);
        block.extend_from_slice(AUTHORITY);
        block.push(u8::try_from(authority.len()).unwrap());
        block.extend_from_slice(authority);
        block.extend_from_slice(&[0x83, 0x86]); // :method POST, :scheme http
        block.extend_from_slice(&[0x40, 0x02]);
        block.extend_from_slice(b"te");
        block.push(0x08);
        block.extend_from_slice(b"trailers");

        let mut bytes = PREFACE.to_vec();
        bytes.extend_from_slice(&frame(0x4, 0, &[0, 3, 0, 0, 0, 100]));
        bytes.extend_from_slice(&frame(FRAME_HEADERS, 0x4, &block));
        // A DATA frame whose payload looks like an authority: untouched.
        bytes.extend_from_slice(&frame(0x0, 0x1, b"\x40\x0a:authority\x03a%b"));
        bytes
    }

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut out = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 1];
        out.extend_from_slice(payload);
        out
    }

    fn scanned(mut bytes: Vec<u8>, chunk: usize) -> Vec<u8> {
        let mut scanner = Scanner::default();
        for piece in bytes.chunks_mut(chunk) {
            scanner.scan(piece);
        }
        bytes
    }

    fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = haystack.windows(from.len()).position(|w| w == from).unwrap();
        [&haystack[..at], to, &haystack[at + from.len()..]].concat()
    }

    #[test]
    fn grpcio_socket_path_becomes_a_host_in_every_read_split() {
        let input = grpcio_connection(b"tmp%2Fpa-t%2Fsniff.sock");
        let expected = replace(&input, b"tmp%2Fpa-t%2Fsniff.sock", b"tmp-2Fpa-t-2Fsniff.sock");
        for chunk in 1..=input.len() {
            assert_eq!(scanned(input.clone(), chunk), expected, "reads of {chunk} bytes");
        }
    }

    #[test]
    fn valid_authority_is_left_alone() {
        let input = grpcio_connection(b"localhost:50051");
        assert_eq!(scanned(input.clone(), 7), input);
    }

    #[test]
    fn static_name_index_padding_priority_and_continuation() {
        // `:authority` by static index 1 (literal without indexing), in a
        // padded HEADERS frame with priority, value split into CONTINUATION.
        let value = b"/run/x.sock";
        let mut first = vec![3]; // pad length
        first.extend_from_slice(&[0, 0, 0, 0, 16]); // priority
        first.extend_from_slice(&[0x01, u8::try_from(value.len()).unwrap()]);
        first.extend_from_slice(&value[..4]);
        first.extend_from_slice(&[0, 0, 0]); // padding
        let mut input = PREFACE.to_vec();
        input.extend_from_slice(&frame(FRAME_HEADERS, FLAG_PADDED | FLAG_PRIORITY, &first));
        input.extend_from_slice(&frame(FRAME_CONTINUATION, 0x4, &value[4..]));

        let expected = replace(&replace(&input, b"/run", b"-run"), b"/x.sock", b"-x.sock");
        for chunk in 1..=input.len() {
            assert_eq!(scanned(input.clone(), chunk), expected, "reads of {chunk} bytes");
        }
    }

    #[test]
    fn huffman_coded_name_is_recognised() {
        let mut block = vec![0x40, 0x80 | u8::try_from(AUTHORITY_HUFFMAN.len()).unwrap()];
        block.extend_from_slice(AUTHORITY_HUFFMAN);
        block.extend_from_slice(b"\x03a%b");
        let mut input = PREFACE.to_vec();
        input.extend_from_slice(&frame(FRAME_HEADERS, 0x4, &block));
        assert_eq!(scanned(input.clone(), 3), replace(&input, b"a%b", b"a-b"));
    }

    #[test]
    fn other_headers_and_huffman_values_pass_unchanged() {
        // A `:path` with slashes and a Huffman-coded authority value.
        let mut block = vec![0x44, 0x03];
        block.extend_from_slice(b"/a/");
        block.extend_from_slice(&[0x41, 0x82, 0x25, 0x25]);
        let mut input = PREFACE.to_vec();
        input.extend_from_slice(&frame(FRAME_HEADERS, 0x4, &block));
        assert_eq!(scanned(input.clone(), 2), input);
    }

    #[test]
    fn not_http2_passes_through() {
        let input = b"GET / HTTP/1.1\r\nHost: a%b\r\n\r\n".to_vec();
        assert_eq!(scanned(input.clone(), 5), input);
    }
}
