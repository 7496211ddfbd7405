//! TLS recognition: the server name (SNI) from a ClientHello, so that protected flows can be counted by
//! site. Nothing inside TLS is ever parsed beyond the ClientHello.

/// Bytes of a ClientHello we are willing to buffer (they are rarely above 2 KiB; post-quantum key shares
/// push some to ~1.8 KiB per record).
pub const MAX_HELLO: usize = 16 * 1024;

/// Outcome of looking at the first bytes of a TLS stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Hello {
    NeedMore,
    /// A ClientHello, with its SNI when present.
    Client(Option<String>),
    /// Not a ClientHello (a ServerHello, or something else): TLS without a name.
    Other,
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize)
}

/// Collect the first bytes of a TLS stream in `buf` (at most [`MAX_HELLO`]) until the ClientHello can
/// be judged: `None` while more are needed, else its server name if it has one. Everything after the
/// handshake is encrypted: nothing more is read.
pub fn collect(buf: &mut Vec<u8>, data: &[u8]) -> Option<Option<String>> {
    let take = (MAX_HELLO - buf.len().min(MAX_HELLO)).min(data.len());
    buf.extend_from_slice(&data[..take]);
    match client_hello(buf) {
        Hello::NeedMore if buf.len() < MAX_HELLO => None,
        Hello::NeedMore | Hello::Other => Some(None),
        Hello::Client(sni) => Some(sni),
    }
}

/// Parse `data`, the start of a TLS stream (record header included).
pub fn client_hello(data: &[u8]) -> Hello {
    let Some(rec_len) = be16(data, 3) else { return Hello::NeedMore };
    if data.len() < 5 + rec_len.min(MAX_HELLO) {
        return if data.len() >= MAX_HELLO { Hello::Other } else { Hello::NeedMore };
    }
    let rec = &data[5..(5 + rec_len).min(data.len())];
    if rec.first() != Some(&1) {
        return Hello::Other;
    }
    Hello::Client(sni(rec))
}

fn sni(hs: &[u8]) -> Option<String> {
    // handshake header (4), version (2), random (32)
    let mut at = 4 + 2 + 32;
    let sid = *hs.get(at)? as usize;
    at += 1 + sid;
    at += 2 + be16(hs, at)?;
    let comp = *hs.get(at)? as usize;
    at += 1 + comp;
    let ext_end = at + 2 + be16(hs, at)?;
    at += 2;
    while at + 4 <= ext_end.min(hs.len()) {
        let typ = be16(hs, at)?;
        let len = be16(hs, at + 2)?;
        let body = hs.get(at + 4..at + 4 + len)?;
        if typ == 0 {
            // server_name_list: list length (2), then entries: type (1), length (2), name.
            let mut p = 2;
            while p + 3 <= body.len() {
                let kind = body[p];
                let n = be16(body, p + 1)?;
                let name = body.get(p + 3..p + 3 + n)?;
                if kind == 0 {
                    let s = std::str::from_utf8(name).ok()?;
                    if s.bytes().all(|b| b.is_ascii_graphic()) {
                        return Some(s.to_ascii_lowercase());
                    }
                    return None;
                }
                p += 3 + n;
            }
            return None;
        }
        at += 4 + len;
    }
    None
}

/// A ClientHello record naming `name` (tests across the project use it).
pub fn build_client_hello(name: &str) -> Vec<u8> {
    let sni = name.as_bytes();
    let mut ext = vec![0, 0];
    ext.extend_from_slice(&((sni.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((sni.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    ext.extend_from_slice(sni);
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[7u8; 32]);
    hello.push(0);
    hello.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(hello.len() as u16).to_be_bytes());
    hs.extend_from_slice(&hello);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_is_read_from_a_client_hello_and_partial_hellos_wait() {
        let rec = build_client_hello("Shop.Lab");
        assert_eq!(client_hello(&rec), Hello::Client(Some("shop.lab".into())));
        assert_eq!(client_hello(&rec[..rec.len() - 1]), Hello::NeedMore);
        assert_eq!(client_hello(&rec[..3]), Hello::NeedMore);
    }

    #[test]
    fn server_hello_and_garbage_are_tls_without_name() {
        assert_eq!(client_hello(&[0x16, 3, 3, 0, 4, 2, 0, 0, 0]), Hello::Other);
        let mut bad = build_client_hello("x.lab");
        let n = bad.len();
        bad[n - 10] = 0xff; // corrupt inside the extension
        let _ = client_hello(&bad); // must not panic
    }
}
