//! `pyzap cache list`: the runtime cache as text. One block per app (its
//! artifact, then its trees), then the trees of no app, the incomplete ones
//! and the entries of `tmp/`; every line says the size on disk, the last
//! use and the processes using it.

use std::fmt;
use std::time::SystemTime;

use super::layout::{Orphan, RuntimeCache};
use super::processes::TreeUser;

impl fmt::Display for RuntimeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let apps = self.apps();
        let total: u64 = self.trees.iter().map(|t| t.size).sum::<u64>()
            + self.leftovers.iter().map(|l| l.size).sum::<u64>();
        writeln!(
            f,
            "runtime cache {}: {}, {}, {}",
            self.root.display(),
            count(apps.len(), "app"),
            count(self.trees.len(), "tree"),
            human_size(total)
        )?;
        let width = self
            .trees
            .iter()
            .map(|t| t.kind.dir().len() + 1 + t.name.len())
            .chain(self.leftovers.iter().map(|l| label_of_leftover(l).len()))
            .max()
            .unwrap_or(0);
        for app in &apps {
            let gone = if app.exists { "" } else { " (artifact gone)" };
            writeln!(f, "\n{}{gone}", app.artifact.display())?;
            for &i in &app.trees {
                self.tree_line(f, i, width, "")?;
            }
        }
        let orphans = self.orphans();
        if !orphans.is_empty() {
            writeln!(f, "\norphans (of no app)")?;
            for (i, why) in orphans {
                let note = match why {
                    Orphan::NoArtifact => "  (its marker names no artifact)".to_string(),
                    Orphan::SiteGone(site) => format!("  (its site {} is gone)", site.display()),
                    Orphan::NoSite => "  (its marker names no site)".to_string(),
                    Orphan::Unnamed => "  (no environment names it)".to_string(),
                };
                self.tree_line(f, i, width, &note)?;
            }
        }
        let incomplete: Vec<usize> = (0..self.trees.len())
            .filter(|&i| !self.trees[i].complete)
            .collect();
        if !incomplete.is_empty() {
            writeln!(f, "\nincomplete (no marker)")?;
            for i in incomplete {
                self.tree_line(f, i, width, "")?;
            }
        }
        if !self.leftovers.is_empty() {
            writeln!(f, "\nleftovers of extractions")?;
            for leftover in &self.leftovers {
                let line = format!(
                    "  {:<width$}  {:>9}  {:<16}  {}",
                    label_of_leftover(leftover),
                    human_size(leftover.size),
                    age(self.now, leftover.modified),
                    users_text(&leftover.users)
                );
                writeln!(f, "{}", line.trim_end())?;
            }
        }
        Ok(())
    }
}

impl RuntimeCache {
    fn tree_line(
        &self,
        f: &mut fmt::Formatter<'_>,
        i: usize,
        width: usize,
        note: &str,
    ) -> fmt::Result {
        let tree = &self.trees[i];
        let line = format!(
            "  {:<width$}  {:>9}  {:<16}  {}{note}",
            format!("{}/{}", tree.kind.dir(), tree.name),
            human_size(tree.size),
            age(self.now, tree.last_used),
            users_text(&tree.users)
        );
        writeln!(f, "{}", line.trim_end())
    }
}

fn label_of_leftover(leftover: &super::layout::Leftover) -> String {
    let name = leftover
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("tmp/{name}")
}

/// `in use by 4121 python3.11 (runs the artifact), …`, or `not in use`.
pub(crate) fn users_text(users: &[TreeUser]) -> String {
    if users.is_empty() {
        return "not in use".to_string();
    }
    let each: Vec<String> = users
        .iter()
        .map(|u| format!("{} {} ({})", u.pid, u.command, u.reason.describe()))
        .collect();
    format!("in use by {}", each.join(", "))
}

/// `1 app`, `2 apps`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `used today`, `used 1 day ago`, `used 40 days ago`.
pub(crate) fn age(now: SystemTime, then: SystemTime) -> String {
    let days = now.duration_since(then).map_or(0, |d| d.as_secs() / 86_400);
    match days {
        0 => "used today".to_string(),
        1 => "used 1 day ago".to_string(),
        n => format!("used {n} days ago"),
    }
}

/// `512 B`, `12.3 kB`, `4.5 MB`, `1.2 GB`.
pub(crate) fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < 1000 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} GB", b / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sizes_and_ages_read_like_words() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(12_345), "12.3 kB");
        assert_eq!(human_size(4_500_000), "4.5 MB");
        assert_eq!(human_size(1_200_000_000), "1.2 GB");
        let now = SystemTime::now();
        assert_eq!(age(now, now), "used today");
        assert_eq!(age(now, now + Duration::from_secs(60)), "used today");
        assert_eq!(
            age(now, now - Duration::from_secs(86_400)),
            "used 1 day ago"
        );
        assert_eq!(
            age(now, now - Duration::from_secs(40 * 86_400 + 5)),
            "used 40 days ago"
        );
    }
}
