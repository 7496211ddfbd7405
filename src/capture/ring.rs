//! `live --ring DIR,SIZE,COUNT`: a bounded ring of the recent traffic, as tcpdump's `-C SIZE -W COUNT`.
//!
//! COUNT pcap files `DIR/ring-NNN.pcap` are created when the capture opens, while still privileged
//! (0600, never through a link, refused if another user's), and kept open: after privileges are dropped
//! rotation only truncates and rewrites files it already holds, so nobody needs write access to DIR.
//! The file written now is the most recently modified (`ls -tr DIR`). The packets are written as
//! captured, secrets in full: the CLI asks for `--reveal`.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use super::writer::{pcap_header, record_header};
use crate::decode::LinkType;
use crate::time::Timestamp;

/// Most files in a ring (a bound on open descriptors).
pub const MAX_FILES: usize = 1000;
/// Smallest file size: one full-size packet must fit.
pub const MIN_SIZE: u64 = 64 * 1024;

/// `DIR,SIZE,COUNT` as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingSpec {
    pub dir: PathBuf,
    pub size: u64,
    pub count: usize,
}

impl std::str::FromStr for RingSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<RingSpec, String> {
        // The directory may itself contain commas: SIZE and COUNT are the last two fields.
        let mut parts = s.rsplitn(3, ',');
        let (Some(count), Some(size), Some(dir)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("{s:?}: expected DIR,SIZE,COUNT (e.g. /var/lib/plainsight/ring,100M,10)"));
        };
        let size = crate::memory::parse_size(size)? as u64;
        if size < MIN_SIZE {
            return Err(format!("ring file size {size} is below {MIN_SIZE} bytes"));
        }
        let count: usize = count.trim().parse().map_err(|_| format!("{count:?}: COUNT must be a number"))?;
        if !(1..=MAX_FILES).contains(&count) {
            return Err(format!("COUNT must be 1 to {MAX_FILES}"));
        }
        if dir.is_empty() {
            return Err("the ring's directory is empty".into());
        }
        Ok(RingSpec { dir: PathBuf::from(dir), size, count })
    }
}

/// The ring's open files and where it writes.
pub struct Ring {
    files: Vec<File>,
    /// The file being written, buffered (one buffer for the ring, not one per file: COUNT may be 1000).
    out: BufWriter<File>,
    now: usize,
    written: u64,
    size: u64,
    link: LinkType,
    snaplen: u32,
    /// Files rewritten from their start (the oldest traffic given up).
    pub rotations: u64,
}

impl Ring {
    /// Create the ring's files (`create(path)` opens one safely) and start writing the first.
    pub fn open<E>(
        spec: &RingSpec,
        link: LinkType,
        snaplen: u32,
        create: impl Fn(&Path) -> Result<File, E>,
    ) -> Result<Ring, E>
    where
        E: From<io::Error>,
    {
        let mut files = Vec::with_capacity(spec.count);
        for i in 0..spec.count {
            let mut f = create(&spec.dir.join(format!("ring-{i:03}.pcap")))?;
            // Every file is a valid capture from the start, empty until the ring reaches it.
            f.write_all(&pcap_header(link, snaplen))?;
            files.push(f);
        }
        // A second descriptor of the first file (it shares the file's offset).
        let out = BufWriter::with_capacity(64 * 1024, files[0].try_clone()?);
        let mut r = Ring { files, out, now: 0, written: 0, size: spec.size, link, snaplen, rotations: 0 };
        r.start(0)?;
        Ok(r)
    }

    fn start(&mut self, i: usize) -> io::Result<()> {
        self.out.flush()?;
        self.now = i;
        let f = &mut self.files[i];
        f.set_len(0)?;
        f.rewind()?;
        self.out = BufWriter::with_capacity(64 * 1024, f.try_clone()?);
        self.out.write_all(&pcap_header(self.link, self.snaplen))?;
        self.written = 24;
        Ok(())
    }

    /// One captured packet; the next file is started (truncated) when this one would pass its size.
    pub fn write(&mut self, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        let len = 16 + data.len() as u64;
        if self.written + len > self.size && self.written > 24 {
            let next = (self.now + 1) % self.files.len();
            self.rotations += 1;
            self.start(next)?;
        }
        self.out.write_all(&record_header(ts, data.len()))?;
        self.out.write_all(data)?;
        self.written += len;
        Ok(())
    }

    /// Flush what is buffered (at exit, and now and then so a reader sees recent packets).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_reads_dir_size_count_with_commas_in_the_directory_and_refuses_bad_ones() {
        let r: RingSpec = "/tmp/a,b/ring,1M,5".parse().unwrap();
        assert_eq!(r, RingSpec { dir: "/tmp/a,b/ring".into(), size: 1 << 20, count: 5 });
        for bad in ["/tmp/x,1M", "/tmp/x,1K,5", "/tmp/x,1M,0", "/tmp/x,1M,5000", ",1M,3", "/tmp/x,lots,3"] {
            assert!(bad.parse::<RingSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_ring_rotates_through_its_files_keeping_each_under_its_size_and_the_newest_traffic() {
        let d = tempfile::tempdir().unwrap();
        let spec = RingSpec { dir: d.path().to_path_buf(), size: MIN_SIZE, count: 3 };
        let mut ring = Ring::open(&spec, LinkType::ETHERNET, 65535, |p: &Path| File::create(p)).unwrap();
        let packet = [7u8; 1000];
        for i in 0..300i64 {
            ring.write(Timestamp::from_secs(i), &packet).unwrap();
        }
        ring.flush().unwrap();
        // 300 packets of 1,016 bytes (~300 KB) through 3 files of 64 KiB: only the newest remain.
        let mut last_ts = Vec::new();
        for i in 0..3 {
            let p = d.path().join(format!("ring-{i:03}.pcap"));
            let len = std::fs::metadata(&p).unwrap().len();
            assert!(len <= MIN_SIZE, "{len}");
            let mut r = crate::capture::FileReader::open(&p, None).unwrap();
            let mut n = 0;
            while let Some(pkt) = r.next_packet().unwrap() {
                last_ts.push(pkt.ts.secs());
                n += 1;
            }
            assert!(n > 0);
        }
        assert!(last_ts.contains(&299), "the newest packet is kept");
        assert!(!last_ts.contains(&0), "the oldest were given up");
        assert!(ring.rotations >= 3);
    }
}
