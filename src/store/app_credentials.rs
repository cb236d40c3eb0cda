//! The apps' credentials kept in this process, on PostgreSQL, where reading them would be a
//! round trip of its own before every answer (on SQLite they are read on the request's own
//! thread, and nothing is kept).
//!
//! Kept only while the server listens to the apps' changes: a trigger on `apps` notifies
//! every change, whoever makes it (migration `0014_app_changes`). A change made through this
//! process empties the cache at once; a change of another process (the command line, a
//! second server, SQL) when its notification arrives, normally within milliseconds. While
//! the listening connection is down, nothing is kept and every request reads the table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::listen::Heard;

/// The channel the trigger notifies.
pub const CHANNEL: &str = "ura_apps";

/// An entry is read again after this long even if no change was heard.
const KEEP: Duration = Duration::from_secs(60);

/// id, name, token hash, allowed functions, allowed networks: an enabled app's row.
pub type Row = (i64, String, String, Option<String>, Option<String>);

#[derive(Debug, Default)]
pub struct Credentials {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    listening: bool,
    /// Counts the changes heard: a row read before one is not kept after it.
    generation: u64,
    rows: HashMap<String, (Row, Instant)>,
}

impl Inner {
    fn forget(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.rows.clear();
    }
}

/// A look into the cache: the row, or the generation to keep a row read now under.
pub enum Lookup {
    Kept(Row),
    Read(u64),
}

impl Credentials {
    pub fn lookup(&self, name: &str) -> Lookup {
        let Ok(inner) = self.inner.lock() else {
            return Lookup::Read(u64::MAX);
        };
        match inner.rows.get(name) {
            Some((row, at)) if inner.listening && at.elapsed() < KEEP => Lookup::Kept(row.clone()),
            _ => Lookup::Read(inner.generation),
        }
    }

    /// Keeps `row`, read in `generation`, unless a change was heard since or nothing listens.
    pub fn keep(&self, name: &str, row: &Row, generation: u64) {
        if let Ok(mut inner) = self.inner.lock()
            && inner.listening
            && inner.generation == generation
        {
            inner
                .rows
                .insert(name.to_string(), (row.clone(), Instant::now()));
        }
    }

    /// Some app changed: everything kept is read again.
    pub fn changed(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.forget();
        }
    }

    /// What the listening connection heard.
    pub fn heard(&self, heard: Heard<'_>) {
        match heard {
            Heard::Listening => self.set_listening(true),
            Heard::Lost => self.set_listening(false),
            Heard::Notice(CHANNEL) => self.changed(),
            Heard::Notice(_) => {}
        }
    }

    /// Whatever was kept may have changed unheard while not listening.
    fn set_listening(&self, on: bool) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.forget();
            inner.listening = on;
        }
    }

    /// How many changes were heard: tests wait on it for a change made by SQL.
    pub fn generation(&self) -> u64 {
        self.inner.lock().map(|i| i.generation).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64) -> Row {
        (id, "crm".into(), "hash".into(), None, None)
    }

    fn kept(c: &Credentials, name: &str) -> Option<i64> {
        match c.lookup(name) {
            Lookup::Kept(row) => Some(row.0),
            Lookup::Read(_) => None,
        }
    }

    #[test]
    fn nothing_is_kept_unless_listening() {
        let c = Credentials::default();
        let Lookup::Read(g) = c.lookup("crm") else {
            panic!("empty")
        };
        c.keep("crm", &row(1), g);
        assert_eq!(kept(&c, "crm"), None);
        c.heard(Heard::Listening);
        let Lookup::Read(g) = c.lookup("crm") else {
            panic!("empty")
        };
        c.keep("crm", &row(1), g);
        assert_eq!(kept(&c, "crm"), Some(1));
        assert_eq!(kept(&c, "other"), None);
        c.heard(Heard::Lost);
        assert_eq!(kept(&c, "crm"), None);
    }

    #[test]
    fn a_change_heard_empties_and_outdates_reads_in_flight() {
        let c = Credentials::default();
        c.heard(Heard::Listening);
        let Lookup::Read(before) = c.lookup("crm") else {
            panic!("empty")
        };
        c.keep("crm", &row(1), before);
        c.heard(Heard::Notice("ura_painel"));
        assert_eq!(kept(&c, "crm"), Some(1));
        c.heard(Heard::Notice(CHANNEL));
        assert_eq!(kept(&c, "crm"), None);
        // A row read before the change is not kept after it.
        c.keep("crm", &row(1), before);
        assert_eq!(kept(&c, "crm"), None);
        assert_eq!(c.generation(), before + 1);
    }
}
