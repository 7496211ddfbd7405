//! Safe creation of the files plainsight writes: they hold evidence about other people's credentials.
//!
//! plainsight often runs as root, and the path it is given may lie in a directory other users can write
//! (`/tmp`, a shared spool). Whoever can write there can plant a symbolic link (root would truncate and
//! overwrite its target), create the file first (they could read what root writes into it), or hard-link
//! a file of root's to that name. So [`create_private`] opens without following a link and without
//! truncating, then decides on what it actually opened (`fstat` of the descriptor, never the path again,
//! so nothing can be swapped between the check and the use):
//!
//! | what is there | what happens |
//! |---|---|
//! | nothing | created, then `fchmod` 0600 (whatever the umask: 0277 would leave 0400, 0000 more than 0600) |
//! | a regular file of ours with one link | truncated (`ftruncate`) and `fchmod` 0600 through the descriptor |
//! | a regular file of another user, or with other names (hard links) | refused |
//! | a FIFO, a device, owned by us, or the null device | written as it is: never truncated nor chmodded (`/dev/null`, a forwarder's FIFO) |
//! | a FIFO, a device, a socket owned by another user | refused |
//! | a symbolic link, a directory, a socket | refused |
//!
//! Nothing is truncated or chmodded before every check has passed.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::libc;

/// Why an output file was not opened. Each names the path and says what was refused, in one line.
#[derive(Debug, thiserror::Error)]
pub enum OutputFileError {
    #[error("{}: is a symbolic link: refusing to follow it", path.display())]
    Symlink { path: PathBuf },
    #[error("{}: owned by uid {uid}, not by us: refusing to write secrets into it", path.display())]
    NotOurs { path: PathBuf, uid: u32 },
    #[error(
        "{}: has {links} hard links (other names can read it): refusing to write secrets into it",
        path.display()
    )]
    HardLinked { path: PathBuf, links: u64 },
    #[error("{}: is a directory", path.display())]
    Directory { path: PathBuf },
    #[error("{}: is a socket: give a file, a FIFO or a device", path.display())]
    Socket { path: PathBuf },
    // The cause is part of the message (not a `source`), so the error stays one line with its cause
    // however it is printed.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
}

/// Open `path` for writing secrets, creating it with mode 0600 or truncating a regular file of ours (see
/// the module documentation for what is refused). The descriptor is close-on-exec and blocking.
pub fn create_private(path: &Path) -> Result<File, OutputFileError> {
    let io_err = |error: io::Error| OutputFileError::Io { path: path.to_path_buf(), error };
    // O_NONBLOCK so that opening a FIFO nobody reads yet cannot hang before we know whose it is (it fails
    // with ENXIO instead, handled below); cleared once the checks have passed.
    let file = match open_write(path, true, true) {
        Ok(f) => f,
        Err(e) => match e.raw_os_error() {
            Some(libc::ELOOP) if is_symlink(path) => return Err(OutputFileError::Symlink { path: path.into() }),
            // The kernel's own guards (fs.protected_symlinks, fs.protected_regular) may refuse first, with
            // EACCES, a link or a file planted by another user in a sticky world-writable directory: name
            // what is there (the message only: the open has failed either way).
            Some(libc::EACCES) => return Err(name_refusal(path).unwrap_or_else(|| io_err(e))),
            Some(libc::EISDIR) => return Err(OutputFileError::Directory { path: path.into() }),
            Some(libc::ENXIO) => return open_unread_fifo(path, e),
            _ => return Err(io_err(e)),
        },
    };
    make_private(path, &file)?;
    let flags = fcntl(&file, FcntlArg::F_GETFL).map_err(|e| io_err(e.into()))?;
    let flags = OFlag::from_bits_truncate(flags) & !OFlag::O_NONBLOCK;
    fcntl(&file, FcntlArg::F_SETFL(flags)).map_err(|e| io_err(e.into()))?;
    Ok(file)
}

/// `O_WRONLY | O_NOFOLLOW | O_CLOEXEC`, with `O_CREAT` (mode 0600, never `O_TRUNC`) and `O_NONBLOCK` on
/// request.
fn open_write(path: &Path, create: bool, nonblock: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true);
    if create {
        o.create(true).mode(0o600);
    }
    let mut flags = libc::O_NOFOLLOW | libc::O_CLOEXEC;
    if nonblock {
        flags |= libc::O_NONBLOCK;
    }
    o.custom_flags(flags).open(path)
}

/// Whether the last component is a symbolic link, to name the refusal (ELOOP also means too many links
/// on the way, EACCES many things): the message only, the open has already failed either way.
fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// What we would have refused at `path`, looked at by name, only to word an open that already failed.
fn name_refusal(path: &Path) -> Option<OutputFileError> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    check_kind_and_owner(path, &meta).err()
}

/// The checks, on what the descriptor refers to; then the only changes we make, through it.
fn make_private(path: &Path, file: &File) -> Result<(), OutputFileError> {
    let io_err = |error: io::Error| OutputFileError::Io { path: path.to_path_buf(), error };
    let meta = file.metadata().map_err(io_err)?;
    check_kind_and_owner(path, &meta)?;
    if meta.file_type().is_file() {
        if meta.nlink() > 1 {
            return Err(OutputFileError::HardLinked { path: path.into(), links: meta.nlink() });
        }
        // Ours, one name: a file we just created, or our own earlier alert file. The mode of a new one
        // came through the umask (0277 gives 0400): set it whatever it is.
        file.set_len(0).map_err(io_err)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
    }
    // A FIFO or a device of ours: written as it is (chmod would change /dev/null for everyone).
    Ok(())
}

/// Refuse what is not ours, and what cannot hold a stream of alerts.
fn check_kind_and_owner(path: &Path, meta: &std::fs::Metadata) -> Result<(), OutputFileError> {
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(OutputFileError::Symlink { path: path.into() });
    }
    if ft.is_dir() {
        return Err(OutputFileError::Directory { path: path.into() });
    }
    // The null device discards what it is given: anyone's, it cannot leak (`--alerts /dev/null` as a
    // user who does not own it).
    if ft.is_char_device() && meta.rdev() == nix::sys::stat::makedev(1, 3) {
        return Ok(());
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(OutputFileError::NotOurs { path: path.into(), uid: meta.uid() });
    }
    if ft.is_socket() {
        return Err(OutputFileError::Socket { path: path.into() });
    }
    Ok(())
}

/// ENXIO from a non-blocking open for writing: a FIFO with no reader yet, or a socket. Look at it
/// without opening it for I/O (`O_PATH`): a FIFO of ours is then opened blocking, waiting for its reader
/// as a shell redirection would, and checked again on the new descriptor (what was opened is what
/// counts). Anyone else's is refused before we wait on it.
fn open_unread_fifo(path: &Path, enxio: io::Error) -> Result<File, OutputFileError> {
    let io_err = |error: io::Error| OutputFileError::Io { path: path.to_path_buf(), error };
    let look = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io_err)?;
    let meta = look.metadata().map_err(io_err)?;
    check_kind_and_owner(path, &meta)?;
    if !meta.file_type().is_fifo() {
        return Err(io_err(enxio));
    }
    let file = match open_write(path, false, false) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(OutputFileError::Symlink { path: path.into() });
        }
        Err(e) => return Err(io_err(e)),
    };
    make_private(path, &file)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    #[test]
    fn new_file_is_0600_and_an_own_file_is_truncated_and_tightened() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.jsonl");
        let mut f = create_private(&p).unwrap();
        f.write_all(b"x").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private(&p).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.permissions().mode() & 0o7777, m.len()), (0o600, 0));
    }

    #[test]
    fn symlink_hard_link_directory_and_socket_are_refused_untouched() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = create_private(&link).unwrap_err();
        assert!(matches!(e, OutputFileError::Symlink { .. }), "{e}");
        assert!(e.to_string().contains("is a symbolic link: refusing to follow it"), "{e}");
        let hard = d.path().join("hard");
        std::fs::hard_link(&target, &hard).unwrap();
        let e = create_private(&hard).unwrap_err();
        assert!(matches!(e, OutputFileError::HardLinked { links: 2, .. }), "{e}");
        let m = std::fs::metadata(&target).unwrap();
        assert_eq!(
            (std::fs::read_to_string(&target).unwrap().as_str(), m.permissions().mode() & 0o777),
            ("keep", 0o644)
        );
        assert!(matches!(create_private(d.path()).unwrap_err(), OutputFileError::Directory { .. }));
        let sock = d.path().join("sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let e = create_private(&sock).unwrap_err();
        assert!(matches!(e, OutputFileError::Socket { .. }), "{e}");
    }
}
