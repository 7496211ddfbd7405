//! The inputs of `plainsight read`: files named on the command line, and the files found in directories
//! named there (recursively, in name order: a tcpdump `-G`/`-C` rotation's files sort in time order).

use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    /// Found in a directory rather than named: a file there that is not a capture is skipped (a README
    /// beside the captures), not an error.
    pub in_directory: bool,
}

/// Directories deeper than this are not entered (a bound on a hostile or looping tree).
const MAX_DEPTH: usize = 32;

/// The inputs `paths` name, directories expanded. What cannot be listed is returned in `problems`
/// (path, why), for the report to say which inputs were not analysed.
pub fn expand(paths: &[PathBuf], problems: &mut Vec<(PathBuf, String)>) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() != "-" && p.is_dir() {
            walk(p, 0, &mut out, problems);
        } else {
            out.push(Input { path: p.clone(), in_directory: false });
        }
    }
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Input>, problems: &mut Vec<(PathBuf, String)>) {
    if depth >= MAX_DEPTH {
        problems.push((dir.to_path_buf(), format!("more than {MAX_DEPTH} directories deep: not entered")));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push((dir.to_path_buf(), format!("cannot list the directory: {e}")));
            return;
        }
    };
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for p in names {
        // A link to a directory is not followed (a loop would never end); a link to a file is read.
        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
        if meta.is_dir() {
            walk(&p, depth + 1, out, problems);
        } else if meta.file_type().is_symlink() && p.is_dir() {
            problems.push((p, "a symbolic link to a directory: not followed".into()));
        } else if p.is_file() {
            out.push(Input { path: p, in_directory: true });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_expand_recursively_in_name_order_and_named_files_stay_in_place() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("b/sub")).unwrap();
        for f in ["b/sub/z.pcap", "b/a.pcap", "b/c.pcap", "a.pcap", "b/sub/a.pcap"] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        std::os::unix::fs::symlink(root.join("b"), root.join("b/loop")).unwrap();
        let mut problems = Vec::new();
        let got = expand(&[root.join("a.pcap"), root.join("b"), PathBuf::from("-")], &mut problems);
        let names: Vec<String> =
            got.iter().map(|i| i.path.strip_prefix(root).map_or("-".into(), |p| p.display().to_string())).collect();
        assert_eq!(names, ["a.pcap", "b/a.pcap", "b/c.pcap", "b/sub/a.pcap", "b/sub/z.pcap", "-"]);
        assert_eq!(got.iter().filter(|i| i.in_directory).count(), 4);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].1.contains("not followed"));
    }
}
