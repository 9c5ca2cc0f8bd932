//! Linux capabilities: what each one allows, and the set a container runtime grants a container
//! that asks for nothing.

use crate::checks::capabilities_baseline::DEFAULT_CAPABILITIES;

/// Every Linux capability (as of Linux 6.x), without the `CAP_` prefix, with what it allows.
pub const LINUX_CAPABILITIES: &[(&str, &str)] = &[
    ("AUDIT_CONTROL", "configure kernel auditing and its rules"),
    ("AUDIT_READ", "read the kernel audit log over netlink"),
    ("AUDIT_WRITE", "write records to the kernel audit log"),
    ("BLOCK_SUSPEND", "keep the system from suspending"),
    ("BPF", "load BPF programs and create BPF maps"),
    (
        "CHECKPOINT_RESTORE",
        "checkpoint and restore processes (set PIDs of new processes)",
    ),
    ("CHOWN", "change the owner of any file"),
    (
        "DAC_OVERRIDE",
        "read, write and execute any file regardless of its permissions",
    ),
    (
        "DAC_READ_SEARCH",
        "read any file and list any directory regardless of permissions",
    ),
    ("FOWNER", "act as the owner of any file (chmod, utime, ...)"),
    (
        "FSETID",
        "keep set-user-ID and set-group-ID bits when modifying files",
    ),
    ("IPC_LOCK", "lock memory (mlock) beyond limits"),
    (
        "IPC_OWNER",
        "bypass permission checks on System V IPC objects",
    ),
    ("KILL", "send signals to processes of other users"),
    ("LEASE", "take leases on files it does not own"),
    (
        "LINUX_IMMUTABLE",
        "set the immutable and append-only file attributes",
    ),
    (
        "MAC_ADMIN",
        "configure mandatory access control (AppArmor, SELinux, Smack)",
    ),
    ("MAC_OVERRIDE", "override mandatory access control"),
    ("MKNOD", "create device files"),
    (
        "NET_ADMIN",
        "configure network interfaces, routes, firewall rules",
    ),
    ("NET_BIND_SERVICE", "bind to ports below 1024"),
    ("NET_BROADCAST", "send broadcasts and listen to multicasts"),
    (
        "NET_RAW",
        "open raw and packet sockets (craft packets, ARP/DNS spoofing)",
    ),
    (
        "PERFMON",
        "use performance monitoring and observability tools",
    ),
    ("SETFCAP", "set file capabilities on executables"),
    ("SETGID", "change its group IDs arbitrarily"),
    ("SETPCAP", "change the capabilities of its own threads"),
    ("SETUID", "change its user IDs arbitrarily"),
    ("SYSLOG", "read and clear the kernel log"),
    (
        "SYS_ADMIN",
        "mount filesystems and much more: close to root on the host",
    ),
    ("SYS_BOOT", "reboot the machine and load new kernels"),
    ("SYS_CHROOT", "use chroot"),
    ("SYS_MODULE", "load and unload kernel modules"),
    (
        "SYS_NICE",
        "raise process priorities and set CPU affinity of any process",
    ),
    ("SYS_PACCT", "turn process accounting on or off"),
    ("SYS_PTRACE", "trace and inspect any process (ptrace)"),
    ("SYS_RAWIO", "access I/O ports and raw devices"),
    ("SYS_RESOURCE", "override resource limits and quotas"),
    ("SYS_TIME", "set the system clock"),
    ("SYS_TTY_CONFIG", "configure terminals (vhangup)"),
    ("WAKE_ALARM", "set alarms that wake the system"),
];

/// Granted by containerd and Docker (not by CRI-O) on top of the set Pod Security's baseline
/// lets a container add back.
pub const NET_RAW: &str = "NET_RAW";

/// The capabilities a container runs with when it adds and drops nothing: containerd's and
/// Docker's default set. It is the baseline level's list of capabilities a container may add,
/// plus NET_RAW (which baseline does not let a container add, but which those runtimes grant).
pub fn runtime_default() -> Vec<&'static str> {
    let mut set: Vec<&'static str> = DEFAULT_CAPABILITIES.to_vec();
    set.push(NET_RAW);
    set.sort_unstable();
    set
}

/// What a capability allows; `None` for a name Linux does not have.
pub fn meaning(name: &str) -> Option<&'static str> {
    LINUX_CAPABILITIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_complete_and_knows_the_defaults() {
        let names: Vec<&str> = LINUX_CAPABILITIES.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "sorted, no repeats");
        // CAP_LAST_CAP is 40 (CHECKPOINT_RESTORE) since Linux 5.9: 41 capabilities.
        assert_eq!(names.len(), 41);
        let defaults = runtime_default();
        assert_eq!(defaults.len(), 14);
        assert!(
            defaults.iter().all(|d| meaning(d).is_some()),
            "{defaults:?}"
        );
        assert!(defaults.contains(&"NET_RAW") && !defaults.contains(&"SYS_ADMIN"));
        assert_eq!(meaning("NOT_A_CAPABILITY"), None);
    }
}
