//! The text of the two unit files. Every line that is a choice carries a
//! comment saying why it is there and which `pyzap systemd` flag changes
//! it, so the files can be read, and edited, without this program.

use std::fmt::Write as _;

use super::escape::{environment, specifiers};
use super::plan::{Interpreter, Service};
use super::Listen;

impl Service {
    /// `echo` or `echo@` (a template), the file names' stem.
    pub(crate) fn unit_stem(&self) -> String {
        if self.template {
            format!("{}@", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The socket unit that activates `unit` (`echo@%i.socket` in a template).
    fn socket_unit(&self) -> String {
        if self.template {
            format!("{}@%i.socket", self.name)
        } else {
            format!("{}.socket", self.name)
        }
    }

    pub(crate) fn render_socket(&self) -> String {
        let stem = self.unit_stem();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# {stem}.socket, written by `pyzap systemd` for {}.",
            self.artifact
        );
        if self.template {
            let _ = writeln!(
                out,
                "# One per instance: `systemctl enable --now {}@1.socket {}@2.socket …`.\n\
                 # systemd listens, and starts {}@N.service on the first connection.",
                self.name, self.name, self.name
            );
        } else {
            let _ = writeln!(
                out,
                "# `systemctl enable --now {stem}.socket`: systemd listens, and starts\n\
                 # {stem}.service on the first connection."
            );
        }
        out.push_str("\n[Unit]\n");
        let _ = writeln!(out, "Description={}", self.description("socket"));
        out.push_str("\n[Socket]\n");
        let _ = writeln!(out, "ListenStream={}", self.listen);
        if self.template && matches!(self.listen, Listen::Tcp(_)) {
            out.push_str(
                "# Every instance binds a socket of its own to this address (SO_REUSEPORT)\n\
                 # and the kernel spreads new connections among them. systemd keeps the\n\
                 # socket open while its service restarts: connections wait there.\n\
                 ReusePort=true\n",
            );
        }
        out.push_str("\n[Install]\nWantedBy=sockets.target\n");
        out
    }

    pub(crate) fn render_service(&self) -> String {
        let stem = self.unit_stem();
        let mut out = String::new();
        let socket = if self.template {
            format!("{}@N.socket for instance N", self.name)
        } else {
            format!("{stem}.socket")
        };
        let _ = writeln!(
            out,
            "# {stem}.service, written by `pyzap systemd` for {}.\n\
             # Started by {socket}, which hands it the listening\n\
             # socket (LISTEN_FDS; pyzap_runtime.listen_sockets() in the app).",
            self.artifact
        );
        out.push_str("\n[Unit]\n");
        let _ = writeln!(out, "Description={}", self.description("service"));
        let socket = self.socket_unit();
        let _ = writeln!(out, "Requires={socket}\nAfter={socket}");

        out.push_str("\n[Service]\n");
        out.push_str("# `systemctl start` fails when the program cannot be executed.\nType=exec\n");
        out.push_str(match self.interpreter {
            Interpreter::Standalone => {
                "# The standalone executable runs by itself, with the CPython it carries.\n"
            }
            Interpreter::TargetVersion => {
                "# The interpreter of the artifact's target by its full path, never through\n\
                 # `env`: what runs does not depend on PATH (--python PATH for another).\n"
            }
            Interpreter::Shebang => {
                "# The interpreter of the artifact's shebang by its full path (--python PATH\n\
                 # for another).\n"
            }
            Interpreter::Given => "# The interpreter given with --python, by its full path.\n",
        });
        let _ = writeln!(out, "ExecStart={}", self.exec_start);
        for var in &self.env {
            let _ = writeln!(out, "Environment={}", environment(&var.key, &var.value));
        }

        out.push_str("\n# Sandboxing: each line names the `pyzap systemd` flag that changes it.\n");
        match &self.user {
            None => out.push_str(
                "# A user made for the service while it runs: no account to manage, and\n\
                 # nothing it may write but its cache (--user NAME: an existing user).\n\
                 DynamicUser=yes\n",
            ),
            Some(user) => {
                let _ = writeln!(
                    out,
                    "# An existing user (--user), instead of one made for the service.\nUser={user}"
                );
            }
        }
        let cache = &self.cache_directory;
        let _ = writeln!(
            out,
            "# /var/cache/{cache}, passed as CACHE_DIRECTORY: the artifact unpacks"
        );
        if cache.contains("%i") && self.user.is_some() {
            out.push_str(
                "# there on its first start and reuses it after; one per instance, so the\n\
                 # instances' first starts, at the same time, never share one\n",
            );
        } else if cache.contains("%i") {
            out.push_str(
                "# there on its first start and reuses it after; one per instance, as the\n\
                 # instances start at the same time, each as a user of its own\n",
            );
        } else if self.template {
            out.push_str(
                "# there on its first start and reuses it after; the instances share it,\n\
                 # all running as one user, and the runtime's lock orders their first starts\n",
            );
        } else {
            out.push_str("# there on its first start and reuses it after\n");
        }
        out.push_str("# (--cache-directory DIR).\n");
        let _ = writeln!(out, "CacheDirectory={cache}");
        let h = &self.hardening;
        let _ = writeln!(
            out,
            "# What is read-only: strict, the whole file system but the cache, /dev,\n\
             # /proc and /sys (--protect-system strict|full|yes|no).\n\
             ProtectSystem={}",
            h.protect_system.as_str()
        );
        let _ = writeln!(
            out,
            "# /home, /root and /run/user out of sight (--protect-home yes|read-only|tmpfs|no).\n\
             ProtectHome={}",
            h.protect_home.as_str()
        );
        let _ = writeln!(
            out,
            "# A /tmp and /var/tmp of its own, emptied when it stops (--private-tmp yes|no).\n\
             PrivateTmp={}",
            yes_no(h.private_tmp)
        );
        let _ = writeln!(
            out,
            "# No privileges gained through setuid programs or file capabilities\n\
             # (--no-new-privileges yes|no).\n\
             NoNewPrivileges={}",
            yes_no(h.no_new_privileges)
        );
        out.push_str(
            "# Only a loopback device of its own: the socket systemd opened still\n\
             # serves, but the app connects nowhere (--private-network yes|no).\n",
        );
        out.push_str(if h.private_network {
            "PrivateNetwork=yes\n"
        } else {
            "#PrivateNetwork=yes\n"
        });
        out
    }

    fn description(&self, what: &str) -> String {
        let artifact = specifiers(&self.artifact);
        match (self.template, what) {
            (true, "socket") => format!("{} socket, instance %i", self.name),
            (true, _) => format!("{} instance %i, from {artifact}", self.name),
            (false, "socket") => format!("{} socket", self.name),
            (false, _) => format!("{}, from {artifact}", self.name),
        }
    }
}

fn yes_no(on: bool) -> &'static str {
    if on {
        "yes"
    } else {
        "no"
    }
}
