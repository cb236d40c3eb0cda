//! Maintenance windows as rules: the fields, what a new one starts from, how a caller's
//! fields are read and checked (levels, dates, the period, the lists of what it covers), and
//! the wire shape the URA and the admin API share. Each caller words a refused field in its
//! own error format; the store only loads and saves, and checks that covered ids exist.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::local_time;

/// `severidade` 4: indisponibilidade total (CONTRACT.md §3, 0 to 4).
pub const SEVERITY_TOTAL_OUTAGE: i64 = 4;
/// `status` 1: investigando.
pub const STATUS_INVESTIGATING: i64 = 1;
/// `status` 4: resolvido; a resolved maintenance is no longer in force.
pub const STATUS_RESOLVED: i64 = 4;

/// A maintenance as `manutencao/*` and the admin API read and write it.
#[derive(Debug, Clone)]
pub struct Maintenance {
    pub id: i64,
    pub fields: Fields,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub description: String,
    pub ivr_message: Option<String>,
    pub severity: i64,
    pub status: i64,
    pub starts_at: DateTime<Utc>,
    pub expected_end: Option<DateTime<Utc>>,
    pub pops: Vec<i64>,
    pub elements: Vec<i64>,
    pub nas: Vec<i64>,
}

/// What a maintenance covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    Pops,
    Elements,
    Nas,
}

impl Coverage {
    pub const ALL: [Coverage; 3] = [Coverage::Pops, Coverage::Elements, Coverage::Nas];

    /// The ids of this kind that `fields` covers.
    pub fn ids(self, fields: &Fields) -> &[i64] {
        match self {
            Coverage::Pops => &fields.pops,
            Coverage::Elements => &fields.elements,
            Coverage::Nas => &fields.nas,
        }
    }

    pub fn ids_mut(self, fields: &mut Fields) -> &mut Vec<i64> {
        match self {
            Coverage::Pops => &mut fields.pops,
            Coverage::Elements => &mut fields.elements,
            Coverage::Nas => &mut fields.nas,
        }
    }

    /// The list's name on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            Coverage::Pops => "pops",
            Coverage::Elements => "elementos",
            Coverage::Nas => "nas",
        }
    }

    /// How a row it refers to is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Coverage::Pops => "POP",
            Coverage::Elements => "elemento de rede",
            Coverage::Nas => "NAS",
        }
    }
}

/// The wire shape, the same for the URA and the admin API: dates local, `data_final` null
/// when unknown, `mensagem_ura` `""` when none was set (the IVR then says the default
/// message).
pub fn to_json(m: &Maintenance, tz: Tz) -> Value {
    let f = &m.fields;
    json!({
        "id": m.id,
        "descricao": f.description,
        "mensagem_ura": f.ivr_message.clone().unwrap_or_default(),
        "severidade": f.severity,
        "status": f.status,
        "data_inicial": local_time::format(f.starts_at, tz),
        "data_final": f.expected_end.map(|t| local_time::format(t, tz)),
        "pops": f.pops,
        "elementos": f.elements,
        "nas": f.nas,
    })
}

/// The fields a caller may write, by their wire names, in the order of the shape.
pub const WRITABLE: [&str; 9] = [
    "descricao",
    "mensagem_ura",
    "severidade",
    "status",
    "data_inicial",
    "data_final",
    "pops",
    "elementos",
    "nas",
];

/// Why a field was refused; each caller words it in its own error format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Required,
    /// What is wrong with the value (`use um número de 0 a 4.`).
    Bad(&'static str),
    /// An id of a list that names no POP, network element or NAS.
    Unknown {
        what: &'static str,
        id: i64,
    },
}

/// A refused field, by its wire name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub reason: Reason,
}

impl Invalid {
    /// `id` of a `coverage` list names no row.
    pub fn unknown(coverage: Coverage, id: i64) -> Invalid {
        Invalid {
            field: coverage.wire_name(),
            reason: Reason::Unknown {
                what: coverage.label(),
                id,
            },
        }
    }
}

fn bad(field: &'static str, why: &'static str) -> Invalid {
    Invalid {
        field,
        reason: Reason::Bad(why),
    }
}

const NOT_TEXT: &str = "informe um texto.";
const NOT_INTEGER: &str = "informe um número inteiro.";
const NOT_LEVEL: &str = "use um número de 0 a 4.";
const NOT_DATE_TIME: &str = "use o formato AAAA-MM-DD HH:MM:SS.";
const NOT_ID_LIST: &str = "informe uma lista de números inteiros.";
const NOT_FLAG: &str = "use 0 ou 1.";
const END_BEFORE_START: &str = "não pode ser anterior a data_inicial.";
const START_AFTER_END: &str = "não pode ser posterior a data_final.";

/// What the caller gave; absent fields keep their value (a change) or default (a new one).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub description: Option<String>,
    /// `Some(None)`: the message cleared (the IVR says the default one).
    pub ivr_message: Option<Option<String>>,
    pub severity: Option<i64>,
    pub status: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    /// `Some(None)`: the expected end made unknown again (`indefinido`).
    pub expected_end: Option<Option<DateTime<Utc>>>,
    pub pops: Option<Vec<i64>>,
    pub elements: Option<Vec<i64>>,
    pub nas: Option<Vec<i64>>,
}

/// A text: `None` absent, `Some(None)` null or blank, else trimmed.
fn text(field: &'static str, v: Option<Value>) -> Result<Option<Option<String>>, Invalid> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => {
            let s = s.trim();
            Ok(Some((!s.is_empty()).then(|| s.to_string())))
        }
        Some(_) => Err(bad(field, NOT_TEXT)),
    }
}

/// 0 to 4 (`severidade` and `status` share the range); a JSON number or its text.
pub fn level(field: &'static str, v: &Value) -> Result<i64, Invalid> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        None => Err(bad(field, NOT_INTEGER)),
        Some(n) if !(0..=4).contains(&n) => Err(bad(field, NOT_LEVEL)),
        Some(n) => Ok(n),
    }
}

fn date_time(field: &'static str, v: &Value, tz: Tz) -> Result<DateTime<Utc>, Invalid> {
    v.as_str()
        .and_then(|text| local_time::parse(text, tz))
        .ok_or_else(|| bad(field, NOT_DATE_TIME))
}

/// `data_final`: `None` absent; `Some(None)` null, blank, `indefinido` or `null` (the end
/// unknown again); else a date-time.
fn expected_end(v: Option<Value>, tz: Tz) -> Result<Option<Option<DateTime<Utc>>>, Invalid> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s))
            if s.trim().is_empty()
                || s.trim().eq_ignore_ascii_case("indefinido")
                || s.trim().eq_ignore_ascii_case("null") =>
        {
            Ok(Some(None))
        }
        Some(v) => Ok(Some(Some(date_time("data_final", &v, tz)?))),
    }
}

/// `[2,3]` (a JSON array, also of strings, or its text), `2,3`, `2 3` or `2`; `[]` (or
/// null) is an empty list. Repeated ids count once.
fn id_list(field: &'static str, v: Value) -> Result<Vec<i64>, Invalid> {
    let invalid = || bad(field, NOT_ID_LIST);
    let item = |v: &Value| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let items: Vec<i64> = match v {
        Value::Null => Vec::new(),
        Value::Array(values) => values
            .iter()
            .map(item)
            .collect::<Option<_>>()
            .ok_or_else(invalid)?,
        Value::String(text) => {
            let text = text.trim();
            if text.starts_with('[') {
                let values: Vec<Value> = serde_json::from_str(text).map_err(|_| invalid())?;
                values
                    .iter()
                    .map(item)
                    .collect::<Option<_>>()
                    .ok_or_else(invalid)?
            } else {
                text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<i64>().ok())
                    .collect::<Option<_>>()
                    .ok_or_else(invalid)?
            }
        }
        _ => return Err(invalid()),
    };
    let mut unique = Vec::with_capacity(items.len());
    for id in items {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(unique)
}

impl Changes {
    /// Reads every field through `get` (by wire name; `None` when not given), in the order
    /// of the shape; the first bad one is the answer. A new maintenance needs `descricao`.
    pub fn read(
        get: impl Fn(&str) -> Option<Value>,
        tz: Tz,
        new: bool,
    ) -> Result<Changes, Invalid> {
        let required = Invalid {
            field: "descricao",
            reason: Reason::Required,
        };
        let description = match text("descricao", get("descricao"))? {
            None if new => return Err(required),
            Some(None) => return Err(required),
            given => given.flatten(),
        };
        let ivr_message = text("mensagem_ura", get("mensagem_ura"))?;
        let severity = get("severidade")
            .map(|v| level("severidade", &v))
            .transpose()?;
        let status = get("status").map(|v| level("status", &v)).transpose()?;
        let starts_at = get("data_inicial")
            .map(|v| date_time("data_inicial", &v, tz))
            .transpose()?;
        let expected_end = expected_end(get("data_final"), tz)?;
        let list = |coverage: Coverage| {
            let name = coverage.wire_name();
            get(name).map(|v| id_list(name, v)).transpose()
        };
        Ok(Changes {
            description,
            ivr_message,
            severity,
            status,
            starts_at,
            expected_end,
            pops: list(Coverage::Pops)?,
            elements: list(Coverage::Elements)?,
            nas: list(Coverage::Nas)?,
        })
    }

    /// The ids given for one coverage, if given.
    pub fn ids(&self, coverage: Coverage) -> Option<&[i64]> {
        match coverage {
            Coverage::Pops => self.pops.as_deref(),
            Coverage::Elements => self.elements.as_deref(),
            Coverage::Nas => self.nas.as_deref(),
        }
    }

    /// `base` with the given fields changed.
    pub fn apply_to(&self, base: Fields) -> Fields {
        let Fields {
            description,
            ivr_message,
            severity,
            status,
            starts_at,
            expected_end,
            pops,
            elements,
            nas,
        } = base;
        Fields {
            description: self.description.clone().unwrap_or(description),
            ivr_message: self.ivr_message.clone().unwrap_or(ivr_message),
            severity: self.severity.unwrap_or(severity),
            status: self.status.unwrap_or(status),
            starts_at: self.starts_at.unwrap_or(starts_at),
            expected_end: self.expected_end.unwrap_or(expected_end),
            pops: self.pops.clone().unwrap_or(pops),
            elements: self.elements.clone().unwrap_or(elements),
            nas: self.nas.clone().unwrap_or(nas),
        }
    }

    /// The expected end may not come before the start; the field blamed is the one given.
    pub fn check_period(&self, fields: &Fields) -> Result<(), Invalid> {
        match fields.expected_end {
            Some(end) if end < fields.starts_at => {
                if self.expected_end.is_some() || self.starts_at.is_none() {
                    Err(bad("data_final", END_BEFORE_START))
                } else {
                    Err(bad("data_inicial", START_AFTER_END))
                }
            }
            _ => Ok(()),
        }
    }

    /// The fields of a new maintenance created `now`: the defaults with these changes,
    /// checked.
    pub fn new_fields(&self, now: DateTime<Utc>) -> Result<Fields, Invalid> {
        self.edited(defaults(whole_seconds(now)))
    }

    /// `current` with these changes, checked.
    pub fn edited(&self, current: Fields) -> Result<Fields, Invalid> {
        let fields = self.apply_to(current);
        self.check_period(&fields)?;
        Ok(fields)
    }
}

/// What a new maintenance starts from: severity 4 (indisponibilidade total), status 1
/// (investigando), starting `now`, end unknown, covering nothing.
pub fn defaults(now: DateTime<Utc>) -> Fields {
    Fields {
        description: String::new(),
        ivr_message: None,
        severity: SEVERITY_TOTAL_OUTAGE,
        status: STATUS_INVESTIGATING,
        starts_at: now,
        expected_end: None,
        pops: Vec::new(),
        elements: Vec::new(),
        nas: Vec::new(),
    }
}

/// `ativas`: 1 (or `true`) for those in force only, 0 (or `false`) for all.
pub fn only_in_force(given: Option<&str>) -> Result<bool, Invalid> {
    match given.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "1" || v == "true" => Ok(true),
        Some(v) if v == "0" || v == "false" => Ok(false),
        Some(_) => Err(bad("ativas", NOT_FLAG)),
    }
}

/// Whole seconds: what the wire shows is what is stored.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::Sao_Paulo;

    const TZ: Tz = Sao_Paulo;

    /// `YYYY-MM-DD HH:MM:SS` in São Paulo (UTC-3, no DST since 2019).
    fn local(text: &str) -> DateTime<Utc> {
        local_time::parse(text, TZ).unwrap()
    }

    fn read_json(body: Value, new: bool) -> Result<Changes, Invalid> {
        Changes::read(|name| body.get(name).cloned(), TZ, new)
    }

    fn bad_field(field: &'static str, why: &'static str) -> Result<Changes, Invalid> {
        Err(bad(field, why))
    }

    fn fields() -> Fields {
        Fields {
            description: "Troca de OLT".into(),
            ivr_message: Some("Estamos em manutenção".into()),
            severity: 3,
            status: 2,
            starts_at: local("2026-11-29 08:00:00"),
            expected_end: Some(local("2026-11-29 10:30:00")),
            pops: vec![2],
            elements: vec![],
            nas: vec![1, 5],
        }
    }

    #[test]
    fn level_takes_0_to_4_as_number_or_text() {
        for (v, n) in [
            (json!(0), 0),
            (json!(4), 4),
            (json!("3"), 3),
            (json!(" 2 "), 2),
        ] {
            assert_eq!(level("status", &v), Ok(n), "{v}");
        }
        for v in [json!(5), json!(-1), json!("9")] {
            assert_eq!(level("status", &v), Err(bad("status", NOT_LEVEL)), "{v}");
        }
        for v in [
            json!(1.5),
            json!("um"),
            json!(true),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(
                level("severidade", &v),
                Err(bad("severidade", NOT_INTEGER)),
                "{v}"
            );
        }
    }

    #[test]
    fn descricao_is_required_when_new_and_never_blank() {
        let required = Err(Invalid {
            field: "descricao",
            reason: Reason::Required,
        });
        assert_eq!(read_json(json!({}), true), required);
        assert_eq!(read_json(json!({"descricao": "  "}), true), required);
        assert_eq!(read_json(json!({"descricao": null}), false), required);
        assert_eq!(read_json(json!({"descricao": ""}), false), required);
        assert_eq!(read_json(json!({}), false), Ok(Changes::default()));
        assert_eq!(
            read_json(json!({"descricao": 7}), true),
            bad_field("descricao", NOT_TEXT)
        );
        let given = read_json(json!({"descricao": "  Troca de OLT "}), true).unwrap();
        assert_eq!(given.description.as_deref(), Some("Troca de OLT"));
    }

    #[test]
    fn mensagem_ura_blank_or_null_clears_it() {
        for v in [json!(null), json!(""), json!("   ")] {
            let c = read_json(json!({ "mensagem_ura": v }), false).unwrap();
            assert_eq!(c.ivr_message, Some(None), "{v}");
        }
        let c = read_json(json!({"mensagem_ura": " Voltamos às 10h "}), false).unwrap();
        assert_eq!(c.ivr_message, Some(Some("Voltamos às 10h".into())));
        assert_eq!(
            read_json(json!({"mensagem_ura": [1]}), false),
            bad_field("mensagem_ura", NOT_TEXT)
        );
    }

    #[test]
    fn dates_are_local_and_data_final_may_be_made_unknown() {
        let c = read_json(
            json!({"data_inicial": "2026-11-29 08:00:00", "data_final": "2026-11-29T10:30"}),
            false,
        )
        .unwrap();
        assert_eq!(
            c.starts_at,
            Some(Utc.with_ymd_and_hms(2026, 11, 29, 11, 0, 0).unwrap())
        );
        assert_eq!(
            c.expected_end,
            Some(Some(Utc.with_ymd_and_hms(2026, 11, 29, 13, 30, 0).unwrap()))
        );
        for v in [
            json!(null),
            json!(""),
            json!("indefinido"),
            json!(" Indefinido "),
            json!("NULL"),
        ] {
            let c = read_json(json!({ "data_final": v }), false).unwrap();
            assert_eq!(c.expected_end, Some(None), "{v}");
        }
        for (field, v) in [
            ("data_inicial", json!("29/11/2026 08:00")),
            ("data_inicial", json!(null)),
            ("data_inicial", json!(20261129)),
            ("data_final", json!("amanhã")),
            ("data_final", json!(1)),
        ] {
            assert_eq!(
                read_json(json!({ field: v }), false),
                bad_field(field, NOT_DATE_TIME),
                "{field} {v}"
            );
        }
    }

    #[test]
    fn id_lists_in_every_accepted_spelling() {
        for v in [
            json!([2, 3]),
            json!(["2", " 3 "]),
            json!("[2,3]"),
            json!("2,3"),
            json!("2 3"),
            json!("2; 3"),
            json!([2, 3, 2]),
        ] {
            assert_eq!(id_list("pops", v.clone()), Ok(vec![2, 3]), "{v}");
        }
        assert_eq!(id_list("nas", json!("7")), Ok(vec![7]));
        for v in [json!(null), json!([]), json!(""), json!("[]")] {
            assert_eq!(id_list("nas", v.clone()), Ok(vec![]), "{v}");
        }
        for v in [
            json!([1.5]),
            json!(["x"]),
            json!("2,x"),
            json!("[2,"),
            json!({"id": 2}),
            json!(2),
            json!([null]),
        ] {
            assert_eq!(
                id_list("elementos", v.clone()),
                Err(bad("elementos", NOT_ID_LIST)),
                "{v}"
            );
        }
        // Each list under its own wire name.
        let c = read_json(json!({"pops": "1", "elementos": [2], "nas": "3,3"}), false).unwrap();
        assert_eq!(c.ids(Coverage::Pops), Some(&[1][..]));
        assert_eq!(c.ids(Coverage::Elements), Some(&[2][..]));
        assert_eq!(c.ids(Coverage::Nas), Some(&[3][..]));
        assert_eq!(
            read_json(json!({"elementos": "a"}), false),
            bad_field("elementos", NOT_ID_LIST)
        );
    }

    #[test]
    fn the_first_bad_field_in_the_order_of_the_shape_is_the_answer() {
        let body = json!({
            "nas": "x", "status": 9, "severidade": "alta", "data_inicial": "ontem",
        });
        assert_eq!(read_json(body, false), bad_field("severidade", NOT_INTEGER));
        let body = json!({"nas": "x", "data_final": "?", "pops": "y"});
        assert_eq!(
            read_json(body, false),
            bad_field("data_final", NOT_DATE_TIME)
        );
        assert_eq!(
            read_json(json!({"nas": "x", "pops": "y"}), false),
            bad_field("pops", NOT_ID_LIST)
        );
    }

    #[test]
    fn changes_replace_only_what_was_given() {
        let base = fields();
        assert_eq!(Changes::default().apply_to(base.clone()), base);
        let c = read_json(
            json!({"status": 4, "mensagem_ura": "", "data_final": "indefinido", "pops": []}),
            false,
        )
        .unwrap();
        let changed = c.apply_to(base.clone());
        assert_eq!(
            changed,
            Fields {
                status: 4,
                ivr_message: None,
                expected_end: None,
                pops: vec![],
                ..base
            }
        );
    }

    #[test]
    fn period_blames_the_field_that_was_given() {
        let base = fields();
        let early_end = read_json(json!({"data_final": "2026-11-29 07:00:00"}), false).unwrap();
        assert_eq!(
            early_end.edited(base.clone()),
            Err(bad("data_final", END_BEFORE_START))
        );
        let late_start = read_json(json!({"data_inicial": "2026-11-29 11:00:00"}), false).unwrap();
        assert_eq!(
            late_start.edited(base.clone()),
            Err(bad("data_inicial", START_AFTER_END))
        );
        let both = read_json(
            json!({"data_inicial": "2026-11-29 11:00:00", "data_final": "2026-11-29 09:00:00"}),
            false,
        )
        .unwrap();
        assert_eq!(
            both.edited(base.clone()),
            Err(bad("data_final", END_BEFORE_START))
        );
        // An end equal to the start, or unknown, is fine.
        let same = read_json(
            json!({"data_inicial": "2026-11-29 09:00:00", "data_final": "2026-11-29 09:00:00"}),
            false,
        )
        .unwrap();
        assert!(same.edited(base.clone()).is_ok());
        let unknown = read_json(
            json!({"data_inicial": "2030-01-01 00:00:00", "data_final": null}),
            false,
        )
        .unwrap();
        assert!(unknown.edited(base).is_ok());
    }

    #[test]
    fn a_new_maintenance_starts_from_the_defaults_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
            + chrono::Duration::milliseconds(750);
        let whole = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        let c = read_json(json!({"descricao": "Queda no POP"}), true).unwrap();
        let f = c.new_fields(now).unwrap();
        assert_eq!(
            f,
            Fields {
                description: "Queda no POP".into(),
                ..defaults(whole)
            }
        );
        assert_eq!(f.severity, 4);
        assert_eq!(f.status, 1);
        assert_eq!(f.expected_end, None);
        assert!(f.pops.is_empty() && f.elements.is_empty() && f.nas.is_empty());
        // With only an end given, it may not come before now.
        let c = read_json(
            json!({"descricao": "x", "data_final": "2026-11-29 08:00:00"}),
            true,
        )
        .unwrap();
        assert_eq!(c.new_fields(now), Err(bad("data_final", END_BEFORE_START)));
    }

    #[test]
    fn ativas_is_0_or_1() {
        assert_eq!(only_in_force(None), Ok(false));
        for v in ["1", "true", " TRUE "] {
            assert_eq!(only_in_force(Some(v)), Ok(true), "{v}");
        }
        for v in ["0", "false", "False"] {
            assert_eq!(only_in_force(Some(v)), Ok(false), "{v}");
        }
        for v in ["", "2", "sim"] {
            assert_eq!(only_in_force(Some(v)), Err(bad("ativas", NOT_FLAG)), "{v}");
        }
    }

    #[test]
    fn coverage_names_and_lists() {
        let names: Vec<_> = Coverage::ALL.iter().map(|c| c.wire_name()).collect();
        assert_eq!(names, ["pops", "elementos", "nas"]);
        let labels: Vec<_> = Coverage::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(labels, ["POP", "elemento de rede", "NAS"]);
        let mut f = fields();
        assert_eq!(Coverage::Nas.ids(&f), &[1, 5]);
        Coverage::Elements.ids_mut(&mut f).push(9);
        assert_eq!(f.elements, vec![9]);
        assert_eq!(
            Invalid::unknown(Coverage::Elements, 9),
            Invalid {
                field: "elementos",
                reason: Reason::Unknown {
                    what: "elemento de rede",
                    id: 9
                }
            }
        );
    }

    #[test]
    fn wire_shape() {
        let m = Maintenance {
            id: 3,
            fields: fields(),
        };
        let shown = to_json(&m, TZ);
        assert_eq!(
            serde_json::to_string(&shown).unwrap(),
            r#"{"id":3,"descricao":"Troca de OLT","mensagem_ura":"Estamos em manutenção","severidade":3,"status":2,"data_inicial":"2026-11-29 08:00:00","data_final":"2026-11-29 10:30:00","pops":[2],"elementos":[],"nas":[1,5]}"#
        );
        let quiet = Maintenance {
            id: 4,
            fields: Fields {
                ivr_message: None,
                expected_end: None,
                ..fields()
            },
        };
        let shown = to_json(&quiet, TZ);
        assert_eq!(shown["mensagem_ura"], json!(""));
        assert_eq!(shown["data_final"], Value::Null);
        // Every writable field is in the shape, in its order, after `id`.
        let keys: Vec<&str> = shown
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys[0], "id");
        assert_eq!(keys[1..], WRITABLE);
    }
}
