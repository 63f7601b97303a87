//! The `system` host import as plain Rust: the facts of this machine, read by the host
//! from `/proc` and statvfs(3) for a check granted `allow = ["system"]`. The plugin gets
//! numbers and names, never a file.

use std::path::Path;

use crate::plan::grants::Grants;
use crate::runtime::imports::net::NetError;
use crate::runtime::output;

/// Most mounts described.
pub const MAX_MOUNTS: usize = 256;
/// Longest process name compared (the kernel keeps 15 bytes of it in `comm`).
const COMM_LEN: usize = 15;
/// File system types without storage of their own, left out of `mounts`.
const VIRTUAL: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "pstore",
    "debugfs",
    "tracefs",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "bpf",
    "binfmt_misc",
    "autofs",
    "rpc_pipefs",
    "nsfs",
    "efivarfs",
    "selinuxfs",
    "ramfs",
    "squashfs",
    "overlay_internal",
];

/// File system types on another machine (or in a user-space daemon), left out of
/// `mounts` too: statvfs(2) on a hung NFS, CIFS or FUSE mount never returns (`df -l`
/// leaves them out for the same reason).
const REMOTE: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "ceph",
    "glusterfs",
    "afs",
    "lustre",
    "gfs2",
    "ocfs2",
    "fuse",
    "fuseblk",
];

/// One mounted file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Mount point.
    pub path: String,
    /// Device.
    pub device: String,
    /// File system type.
    pub fs_type: String,
    /// Size.
    pub total_bytes: u64,
    /// Free for unprivileged users.
    pub available_bytes: u64,
    /// In use.
    pub used_bytes: u64,
    /// Inodes in all.
    pub total_inodes: u64,
    /// Inodes free.
    pub free_inodes: u64,
}

/// Memory and swap, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// MemTotal.
    pub total: u64,
    /// MemAvailable.
    pub available: u64,
    /// SwapTotal.
    pub swap_total: u64,
    /// SwapFree.
    pub swap_free: u64,
}

/// Load averages and CPUs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// 1 minute.
    pub one: f64,
    /// 5 minutes.
    pub five: f64,
    /// 15 minutes.
    pub fifteen: f64,
    /// CPUs online.
    pub cpus: u32,
}

/// Refuses a check that was not granted `system`.
pub fn granted(grants: &Grants) -> Result<(), NetError> {
    if grants.allows_system() {
        Ok(())
    } else {
        Err(NetError::Denied(
            "the facts of this machine are not granted to this check; add \"system\" to its allow list".into(),
        ))
    }
}

fn read(path: &str) -> Result<String, NetError> {
    std::fs::read_to_string(path).map_err(|e| NetError::Invalid(format!("cannot read {path}: {e}")))
}

/// The mounted file systems with storage on this machine, each with its usage.
pub fn mounts() -> Result<Vec<Mount>, NetError> {
    let table = read("/proc/self/mounts")?;
    let mut seen = std::collections::HashSet::new();
    let mut mounts = Vec::new();
    for line in table.lines() {
        let mut fields = line.split_whitespace();
        let (Some(device), Some(path), Some(fs_type)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let path = unescape(path);
        let remote = REMOTE.contains(&fs_type) || fs_type.starts_with("fuse.");
        if VIRTUAL.contains(&fs_type) || remote || !seen.insert(path.clone()) {
            continue;
        }
        let Some(usage) = statvfs(Path::new(&path)) else { continue };
        // A file system of size 0 (an empty tmpfs placeholder) has nothing to tell.
        if usage.total_bytes == 0 && usage.total_inodes == 0 {
            continue;
        }
        mounts.push(Mount {
            path: output::one_line(&path, 1024),
            device: output::one_line(&unescape(device), 1024),
            fs_type: output::one_line(fs_type, 64),
            ..usage
        });
        if mounts.len() == MAX_MOUNTS {
            break;
        }
    }
    Ok(mounts)
}

/// `/proc/mounts` writes space, tab, newline and backslash as octal escapes (`\040`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = bytes
            .get(i + 1..i + 4)
            .filter(|_| bytes[i] == b'\\')
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 8).ok());
        match code {
            Some(code) => {
                out.push(code);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The usage of the file system at `path`; none when it cannot be read.
// statvfs's fields are u64 here and narrower on 32-bit targets, so the casts stay.
#[allow(clippy::unnecessary_cast)]
fn statvfs(path: &Path) -> Option<Mount> {
    use std::os::unix::ffi::OsStrExt as _;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: c_path is a NUL-terminated string and st points to writable memory of the
    // right size; statvfs only writes into it.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let st = unsafe { st.assume_init() };
    let fragment = st.f_frsize as u64;
    let total = (st.f_blocks as u64).saturating_mul(fragment);
    let free = (st.f_bfree as u64).saturating_mul(fragment);
    Some(Mount {
        path: String::new(),
        device: String::new(),
        fs_type: String::new(),
        total_bytes: total,
        available_bytes: (st.f_bavail as u64).saturating_mul(fragment),
        used_bytes: total.saturating_sub(free),
        total_inodes: st.f_files as u64,
        free_inodes: st.f_ffree as u64,
    })
}

/// Memory and swap from `/proc/meminfo`.
pub fn memory() -> Result<Memory, NetError> {
    let text = read("/proc/meminfo")?;
    let field = |name: &str| -> Result<u64, NetError> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib.saturating_mul(1024))
            .ok_or_else(|| NetError::Invalid(format!("/proc/meminfo has no {name}")))
    };
    Ok(Memory {
        total: field("MemTotal")?,
        available: field("MemAvailable")?,
        swap_total: field("SwapTotal")?,
        swap_free: field("SwapFree")?,
    })
}

/// Load averages from `/proc/loadavg`.
pub fn load() -> Result<Load, NetError> {
    let text = read("/proc/loadavg")?;
    let mut parts = text.split_whitespace().map(|p| p.parse::<f64>());
    let mut next =
        || parts.next().and_then(Result::ok).ok_or_else(|| NetError::Invalid("/proc/loadavg is not readable".into()));
    let (one, five, fifteen) = (next()?, next()?, next()?);
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Ok(Load { one, five, fifteen, cpus: u32::try_from(cpus).unwrap_or(u32::MAX) })
}

/// How many processes have `name`: their `comm` (15 bytes of it, as `ps -C` matches), or
/// the file name of their first argument.
pub fn processes(name: &str) -> Result<u32, NetError> {
    let name = name.trim();
    if name.is_empty() || name.contains('/') {
        return Err(NetError::Invalid("a process name is one word without `/`, e.g. \"nginx\"".into()));
    }
    let short: String = name
        .chars()
        .scan(0, |len, c| {
            *len += c.len_utf8();
            (*len <= COMM_LEN).then_some(c)
        })
        .collect();
    let entries = std::fs::read_dir("/proc").map_err(|e| NetError::Invalid(format!("cannot list /proc: {e}")))?;
    let mut count = 0u32;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().filter(|p| p.bytes().all(|b| b.is_ascii_digit())) else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let matches = comm.trim_end() == short || {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
            let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
            base == name.as_bytes()
        };
        count += u32::from(matches);
    }
    Ok(count)
}

/// Whether a TCP socket of this machine listens on `port` (`/proc/net/tcp` and `tcp6`).
pub fn listening(port: u16) -> Result<bool, NetError> {
    let mut any_table = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        any_table = true;
        if listens(&text, port) {
            return Ok(true);
        }
    }
    if any_table { Ok(false) } else { Err(NetError::Invalid("cannot read /proc/net/tcp".into())) }
}

/// Whether a `/proc/net/tcp` table has a socket in state LISTEN (0A) on `port`.
fn listens(table: &str, port: u16) -> bool {
    table.lines().skip(1).any(|line| {
        let mut fields = line.split_whitespace();
        let local = fields.nth(1).unwrap_or_default();
        let state = fields.nth(1).unwrap_or_default();
        let local_port = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
        state == "0A" && local_port == Some(port)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_fields_are_unescaped() {
        assert_eq!(unescape("/mnt/my\\040disk"), "/mnt/my disk");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/odd\\"), "/odd\\");
    }

    #[test]
    fn the_machine_is_described() {
        let mounts = mounts().expect("mounts");
        let root = mounts.iter().find(|m| m.path == "/").expect("a root file system");
        assert!(root.total_bytes > 0 && root.used_bytes <= root.total_bytes, "{root:?}");
        let memory = memory().expect("memory");
        assert!(memory.total > 0 && memory.available <= memory.total, "{memory:?}");
        let load = load().expect("load");
        assert!(load.cpus >= 1 && load.one >= 0.0);
        // This test's own process is running, under the name of the test binary.
        let me = std::env::current_exe().expect("exe");
        let name = me.file_name().and_then(|n| n.to_str()).expect("name");
        assert!(processes(name).expect("processes") >= 1);
        assert_eq!(processes("no-such-process-vitals").expect("processes"), 0);
        assert!(processes("a/b").is_err());
    }

    #[test]
    fn a_listening_port_is_found_and_a_closed_one_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert!(listening(port).expect("tables"));
        drop(listener);
        assert!(!listening(port).expect("tables"));
        let table = "  sl  local_address rem_address   st\n   0: 0100007F:1F90 00000000:0000 0A 0\n   1: 0100007F:0050 0100007F:C350 01 0\n";
        assert!(listens(table, 8080) && !listens(table, 80));
    }
}
