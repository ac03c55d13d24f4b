//! The values `pyzap systemd` takes, parsed once into types (`--listen`,
//! `--env`, the hardening choices), and the checks on names a unit file
//! carries: unit names, user names, cache directories.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use crate::DeployError;

/// Where the socket unit listens (`ListenStream=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// An IPv4 or IPv6 address and port.
    Tcp(SocketAddr),
    /// The absolute path of a Unix socket; in a template it may hold `%i`.
    Unix(String),
}

/// The longest path `sockaddr_un` holds, without its terminating NUL.
const SUN_PATH_MAX: usize = 107;

impl FromStr for Listen {
    type Err = DeployError;

    fn from_str(value: &str) -> Result<Self, DeployError> {
        if value.starts_with('/') {
            refuse_control("the socket path", value)?;
            if value.chars().any(char::is_whitespace) {
                return Err(DeployError::Listen(value.to_string()));
            }
            check_specifiers("the socket path", value)?;
            if value.len() > SUN_PATH_MAX {
                return Err(DeployError::SocketPathTooLong {
                    path: value.to_string(),
                    len: value.len(),
                });
            }
            return Ok(Listen::Unix(value.to_string()));
        }
        value
            .parse::<SocketAddr>()
            .map(Listen::Tcp)
            .map_err(|_| DeployError::Listen(value.to_string()))
    }
}

impl fmt::Display for Listen {
    /// The value of `ListenStream=` (`127.0.0.1:8080`, `[::1]:8080`, a path).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(addr) => write!(f, "{addr}"),
            Listen::Unix(path) => f.write_str(path),
        }
    }
}

/// One `--env KEY=VALUE` for the service's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub key: String,
    pub value: String,
}

impl FromStr for EnvVar {
    type Err = DeployError;

    fn from_str(given: &str) -> Result<Self, DeployError> {
        let (key, value) = given
            .split_once('=')
            .ok_or_else(|| DeployError::EnvSyntax(given.to_string()))?;
        let mut chars = key.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(DeployError::EnvName(key.to_string()));
        }
        refuse_control("the environment variable", given)?;
        Ok(EnvVar {
            key: key.to_string(),
            value: value.to_string(),
        })
    }
}

/// `ProtectSystem=`: how much of the file system the service may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectSystem {
    /// Everything read-only but `/dev`, `/proc`, `/sys` and the unit's own
    /// directories (its cache).
    Strict,
    /// `/usr`, the boot loader and `/etc` read-only.
    Full,
    /// `/usr` and the boot loader read-only.
    Yes,
    No,
}

impl ProtectSystem {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProtectSystem::Strict => "strict",
            ProtectSystem::Full => "full",
            ProtectSystem::Yes => "yes",
            ProtectSystem::No => "no",
        }
    }
}

impl FromStr for ProtectSystem {
    type Err = DeployError;

    fn from_str(value: &str) -> Result<Self, DeployError> {
        Ok(match value {
            "strict" => ProtectSystem::Strict,
            "full" => ProtectSystem::Full,
            "yes" => ProtectSystem::Yes,
            "no" => ProtectSystem::No,
            _ => {
                return Err(DeployError::Choice {
                    directive: "ProtectSystem=",
                    value: value.to_string(),
                    allowed: "strict, full, yes, no",
                })
            }
        })
    }
}

/// `ProtectHome=`: whether the service sees `/home`, `/root` and `/run/user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectHome {
    /// Hidden.
    Yes,
    ReadOnly,
    /// Empty directories in their place.
    Tmpfs,
    No,
}

impl ProtectHome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProtectHome::Yes => "yes",
            ProtectHome::ReadOnly => "read-only",
            ProtectHome::Tmpfs => "tmpfs",
            ProtectHome::No => "no",
        }
    }

    /// Does the service see nothing of what these directories hold?
    pub(crate) fn hides(self) -> bool {
        matches!(self, ProtectHome::Yes | ProtectHome::Tmpfs)
    }
}

impl FromStr for ProtectHome {
    type Err = DeployError;

    fn from_str(value: &str) -> Result<Self, DeployError> {
        Ok(match value {
            "yes" => ProtectHome::Yes,
            "read-only" => ProtectHome::ReadOnly,
            "tmpfs" => ProtectHome::Tmpfs,
            "no" => ProtectHome::No,
            _ => {
                return Err(DeployError::Choice {
                    directive: "ProtectHome=",
                    value: value.to_string(),
                    allowed: "yes, read-only, tmpfs, no",
                })
            }
        })
    }
}

/// The sandboxing directives of the service unit. The default is the
/// strictest set a web app served from an artifact runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardening {
    pub protect_system: ProtectSystem,
    pub protect_home: ProtectHome,
    pub private_tmp: bool,
    pub no_new_privileges: bool,
    /// Opt-in: the socket systemd passes still serves, but the app cannot
    /// connect anywhere (no database, no upstream API).
    pub private_network: bool,
}

impl Default for Hardening {
    fn default() -> Self {
        Hardening {
            protect_system: ProtectSystem::Strict,
            protect_home: ProtectHome::Yes,
            private_tmp: true,
            no_new_privileges: true,
            private_network: false,
        }
    }
}

/// Refuses a value a unit file cannot carry on one line.
pub(crate) fn refuse_control(what: &'static str, value: &str) -> Result<(), DeployError> {
    if value.chars().any(char::is_control) {
        return Err(DeployError::ControlCharacter {
            what,
            value: value.escape_debug().to_string(),
        });
    }
    Ok(())
}

/// Refuses a `%` that does not start `%i`: the values that may hold a
/// specifier are written as given, and any other one would be expanded.
pub(crate) fn check_specifiers(what: &'static str, value: &str) -> Result<(), DeployError> {
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        rest = &rest[at + 1..];
        if !rest.starts_with('i') {
            return Err(DeployError::Specifier {
                what,
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

/// The units' name: what comes before `.service`, `@.service`, `.socket`.
pub(crate) fn check_unit_name(name: &str) -> Result<(), DeployError> {
    // systemd's unit name alphabet, less `@` (the template separator) and
    // `\` (its escapes); the suffixes take at most 10 of the 255 bytes.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-');
    if name.is_empty() || name.len() > 245 || !name.chars().all(allowed) {
        return Err(DeployError::UnitName(name.to_string()));
    }
    Ok(())
}

/// A name for `User=`: the portable user-name alphabet (letters, digits,
/// `_`, `.`, `-`, not starting with `-` or `.`) or a numeric uid.
pub(crate) fn check_user(user: &str) -> Result<(), DeployError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let bad_start = user.starts_with(['-', '.']);
    if user.is_empty() || user.len() > 256 || bad_start || !user.chars().all(allowed) {
        return Err(DeployError::UserName(user.to_string()));
    }
    Ok(())
}

/// A `CacheDirectory=` value: relative to `/var/cache`, plain components.
pub(crate) fn check_cache_directory(dir: &str) -> Result<(), DeployError> {
    refuse_control("the cache directory", dir)?;
    check_specifiers("the cache directory", dir)?;
    let plain = |part: &str| {
        !part.is_empty() && part != "." && part != ".." && !part.chars().any(char::is_whitespace)
    };
    if !dir.split('/').all(plain) {
        return Err(DeployError::CacheDirectory(dir.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_addresses_and_absolute_paths() {
        assert_eq!(
            "127.0.0.1:8080".parse::<Listen>().unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            "[::]:8080".parse::<Listen>().unwrap().to_string(),
            "[::]:8080"
        );
        assert_eq!(
            "/run/app/%i.sock".parse::<Listen>().unwrap(),
            Listen::Unix("/run/app/%i.sock".into())
        );
        for bad in ["8080", "localhost:8080", "run/app.sock", "127.0.0.1", ""] {
            assert!(
                matches!(bad.parse::<Listen>(), Err(DeployError::Listen(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "/run/a%h.sock".parse::<Listen>(),
            Err(DeployError::Specifier { .. })
        ));
        assert!(matches!(
            format!("/run/{}", "s".repeat(110)).parse::<Listen>(),
            Err(DeployError::SocketPathTooLong { len: 115, .. })
        ));
    }

    #[test]
    fn env_vars_need_a_name_and_one_line() {
        let var: EnvVar = "A_1=x=y z".parse().unwrap();
        assert_eq!((var.key.as_str(), var.value.as_str()), ("A_1", "x=y z"));
        assert_eq!("EMPTY=".parse::<EnvVar>().unwrap().value, "");
        assert!(matches!(
            "NOEQUALS".parse::<EnvVar>(),
            Err(DeployError::EnvSyntax(_))
        ));
        for bad in ["1A=x", "A-B=x", "=x", "A B=x"] {
            assert!(
                matches!(bad.parse::<EnvVar>(), Err(DeployError::EnvName(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "A=line\nnext".parse::<EnvVar>(),
            Err(DeployError::ControlCharacter { .. })
        ));
    }

    #[test]
    fn names_users_and_cache_directories() {
        check_unit_name("echo-wsgi").unwrap();
        check_unit_name("app_2.web:main").unwrap();
        for bad in ["", "a b", "a@b", "a/b", "é", "a\\x2d"] {
            assert!(check_unit_name(bad).is_err(), "{bad}");
        }
        check_user("www-data").unwrap();
        check_user("1001").unwrap();
        for bad in ["", "-x", ".x", "a b", "a:b"] {
            assert!(check_user(bad).is_err(), "{bad}");
        }
        check_cache_directory("app").unwrap();
        check_cache_directory("app/%i").unwrap();
        for bad in [
            "/var/cache/app",
            "a/../b",
            "a//b",
            "./a",
            "a/",
            "a b",
            "a/%n",
        ] {
            assert!(check_cache_directory(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hardening_choices_parse_their_systemd_values() {
        for value in ["strict", "full", "yes", "no"] {
            assert_eq!(value.parse::<ProtectSystem>().unwrap().as_str(), value);
        }
        for value in ["yes", "read-only", "tmpfs", "no"] {
            assert_eq!(value.parse::<ProtectHome>().unwrap().as_str(), value);
        }
        assert!("true".parse::<ProtectSystem>().is_err());
        assert!("readonly".parse::<ProtectHome>().is_err());
    }
}
