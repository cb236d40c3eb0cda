//! The synthetic provider, as plain rows: who the customers are, their documents, contracts,
//! services, invoices and RADIUS sessions. Pure functions of the seed and of the customer's
//! index (dates are relative to `now`), so the same seed gives the same provider, and a
//! batch can be generated on one thread while another writes the previous one.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeDelta, Utc};

use crate::domain::document;
use crate::domain::{boleto, pix};
use crate::settings::RadiusSettings;
use crate::store::radius::{self, LoginRows};
use crate::store::seed::{
    ContactRow, ContractRow, CustomerRow, ElementRow, InvoiceRow, MaintenanceRow, NasRow, PlanRow,
    PopRow, Rows, ServiceRow, SessionRow,
};
use crate::store::ts;

/// SplitMix64: small, fast, and the same on every platform and version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// An independent stream for (`seed`, `stream`, `index`).
    pub fn new(seed: u64, stream: u64, index: u64) -> Rng {
        Rng(mix(seed
            ^ mix(
                stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(index)
            )))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True `per_mille` times in a thousand.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FIRST_NAMES: &[&str] = &[
    "MARIA",
    "JOSÉ",
    "ANA",
    "JOÃO",
    "ANTÔNIO",
    "FRANCISCA",
    "CARLOS",
    "PAULO",
    "ADRIANA",
    "LUCAS",
    "JULIANA",
    "MARCOS",
    "LUÍS",
    "PEDRO",
    "PATRÍCIA",
    "ALINE",
    "FERNANDA",
    "RAFAEL",
    "GABRIEL",
    "BRUNA",
    "DANIEL",
    "MÁRCIA",
    "SANDRA",
    "RAIMUNDO",
    "CONCEIÇÃO",
    "SEBASTIÃO",
    "LETÍCIA",
    "AMANDA",
    "RODRIGO",
    "EDUARDO",
    "VITÓRIA",
    "CÉLIA",
    "FÁBIO",
    "JÉSSICA",
    "RENATA",
    "TIAGO",
    "BEATRIZ",
    "GUSTAVO",
    "LÚCIA",
    "SÉRGIO",
    "CAMILA",
    "FELIPE",
    "IRENE",
    "ÍTALO",
    "ÂNGELA",
    "HELENA",
    "OTÁVIO",
    "RAQUEL",
    "VINÍCIUS",
    "JOSEFA",
];

const SURNAMES: &[&str] = &[
    "SILVA",
    "SANTOS",
    "OLIVEIRA",
    "SOUZA",
    "RODRIGUES",
    "FERREIRA",
    "ALVES",
    "PEREIRA",
    "LIMA",
    "GOMES",
    "COSTA",
    "RIBEIRO",
    "MARTINS",
    "CARVALHO",
    "ARAÚJO",
    "MELO",
    "BARBOSA",
    "ROCHA",
    "DIAS",
    "NASCIMENTO",
    "ANDRADE",
    "MOREIRA",
    "NUNES",
    "MARQUES",
    "MACHADO",
    "MENDES",
    "FREITAS",
    "CARDOSO",
    "RAMOS",
    "GONÇALVES",
    "SANTANA",
    "TEIXEIRA",
    "MEDEIROS",
    "CAVALCANTI",
    "BEZERRA",
    "FALCÃO",
    "DAMASCENO",
    "CONCEIÇÃO",
    "ASSUNÇÃO",
    "BRANDÃO",
];

const COMPANY_WORDS: &[&str] = &[
    "MERCADO",
    "PADARIA",
    "FARMÁCIA",
    "AUTO PEÇAS",
    "CONSTRUÇÕES",
    "COMÉRCIO",
    "CLÍNICA",
    "ESCRITÓRIO",
    "TRANSPORTES",
    "RESTAURANTE",
    "ÓTICA",
    "PAPELARIA",
    "ACADEMIA",
    "POUSADA",
];

const COMPANY_SUFFIXES: &[&str] = &["LTDA", "ME", "EIRELI", "S.A.", "EPP"];

const STREETS: &[&str] = &[
    "Rua das Flores",
    "Av. Brasil",
    "Rua São João",
    "Rua Sete de Setembro",
    "Av. Getúlio Vargas",
    "Rua das Acácias",
    "Travessa Boa Vista",
    "Rua Coronel Pedro",
    "Av. Beira Mar",
    "Rua Tiradentes",
    "Rua da Conceição",
    "Rua Padre Cícero",
];

const DISTRICTS: &[&str] = &[
    "Centro",
    "Zona Norte",
    "Ponta Negra",
    "Lagoa Nova",
    "Alecrim",
    "Tirol",
    "Candelária",
    "Capim Macio",
    "Neópolis",
    "Redinha",
];

pub const CITIES: &[&str] = &[
    "Natal",
    "Parnamirim",
    "Mossoró",
    "Caicó",
    "João Pessoa",
    "Campina Grande",
    "Recife",
    "Fortaleza",
    "Teresina",
    "Maceió",
];

/// DDDs of the mobiles.
const DDDS: &[u32] = &[84, 83, 81, 85, 86, 82, 11, 21, 31, 71];

const EMAIL_DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];

/// (name, download kbit/s, upload kbit/s, price in centavos, RADIUS group, business)
pub const PLANS: &[(&str, i64, i64, i64, &str, bool)] = &[
    ("FIBRA 300M", 300_000, 150_000, 9_990, "plano-300m", false),
    ("FIBRA 500M", 500_000, 250_000, 11_990, "plano-500m", false),
    ("FIBRA 700M", 700_000, 350_000, 12_990, "plano-700m", false),
    ("FIBRA 1G", 1_000_000, 500_000, 14_990, "plano-1g", false),
    ("RURAL 50M", 50_000, 25_000, 7_990, "plano-rural-50m", false),
    (
        "EMPRESA 600M",
        600_000,
        300_000,
        29_990,
        "plano-empresa-600m",
        true,
    ),
    (
        "EMPRESA 1G",
        1_000_000,
        1_000_000,
        49_900,
        "plano-empresa-1g",
        true,
    ),
    (
        "DEDICADO 200M",
        200_000,
        200_000,
        89_900,
        "plano-dedicado-200m",
        true,
    ),
];

/// The PIX key on the generated invoices.
const PIX_KEY: &str = "0f3b8c2e-9a41-4d7e-b5c6-2e8f1a7d4c90";

/// Random streams, one per kind of fact.
const STREAM_DOC: u64 = 1;
const STREAM_CUSTOMER: u64 = 2;
const STREAM_SAMPLE: u64 = 3;

/// The shape of the provider: sizes of the small tables follow the number of customers.
#[derive(Debug, Clone)]
pub struct Shape {
    pub customers: u64,
    pub seed: u64,
    pub pops: i64,
    /// Network elements (OLTs) per POP.
    pub elements_per_pop: i64,
    pub now: DateTime<Utc>,
    /// Local date of `now`: due dates and months.
    pub today: NaiveDate,
    /// Multiplier and offset of the documents' permutation.
    doc_mul: u64,
    doc_add: u64,
}

/// Distinct 8-digit values: a permutation of 0..10^8, so documents never repeat.
const DOC_SPACE: u64 = 100_000_000;

impl Shape {
    pub fn new(customers: u64, seed: u64, now: DateTime<Utc>, today: NaiveDate) -> Shape {
        let mut rng = Rng::new(seed, STREAM_DOC, 0);
        // Coprime with 10^8 (odd, not a multiple of 5): i -> i*mul+add is a bijection.
        let mut doc_mul = rng.below(DOC_SPACE / 2) * 2 + 1;
        if doc_mul.is_multiple_of(5) {
            doc_mul += 2;
        }
        Shape {
            customers,
            seed,
            pops: (customers / 5_000).clamp(20, 400) as i64,
            elements_per_pop: 3,
            now,
            today,
            doc_mul,
            doc_add: rng.below(DOC_SPACE),
        }
    }

    pub fn nas_count(&self) -> i64 {
        self.pops
    }

    pub fn elements(&self) -> i64 {
        self.pops * self.elements_per_pop
    }

    /// The address of NAS `id` (1-based): private, never a real router.
    pub fn nas_ip(id: i64) -> String {
        format!("10.200.{}.{}", id / 250, id % 250 + 1)
    }

    /// The document of customer `index` (0-based): a valid CPF, or a valid CNPJ (numeric or
    /// alphanumeric), distinct for every index below 10^8.
    pub fn document(&self, index: u64, kind: DocKind) -> String {
        let v = (index % DOC_SPACE)
            .wrapping_mul(self.doc_mul)
            .wrapping_add(self.doc_add)
            % DOC_SPACE;
        let root = format!("{v:08}");
        match kind {
            DocKind::Cpf => {
                // A ninth digit that differs from the first: never one repeated digit.
                let first = u64::from(root.as_bytes()[0] - b'0');
                let ninth = (first + 1 + v % 9) % 10;
                let head = format!("{root}{ninth}");
                let dv = document::cpf_check_digits(&head).unwrap_or_default();
                format!("{head}{dv}")
            }
            DocKind::Cnpj | DocKind::CnpjAlpha => {
                let root = if kind == DocKind::CnpjAlpha {
                    // Digits 3 to 5 as letters (0 → A ... 9 → J): still one to one.
                    root.bytes()
                        .enumerate()
                        .map(|(i, b)| {
                            if (2..5).contains(&i) {
                                char::from(b'A' + (b - b'0'))
                            } else {
                                char::from(b)
                            }
                        })
                        .collect()
                } else {
                    root
                };
                let head = format!("{root}0001");
                let dv = document::cnpj_check_digits(&head).unwrap_or_default();
                format!("{head}{dv}")
            }
        }
    }

    /// Contract ids to sample (1-based, distinct, in random order) out of `contracts`.
    pub fn sample_contracts(&self, contracts: i64, size: usize) -> Vec<i64> {
        let mut rng = Rng::new(self.seed, STREAM_SAMPLE, 0);
        let size = size.min(contracts.max(0) as usize);
        let mut chosen = std::collections::HashSet::with_capacity(size);
        let mut out = Vec::with_capacity(size);
        if size * 2 > contracts as usize {
            // Most of them: shuffle all.
            let mut all: Vec<i64> = (1..=contracts).collect();
            for i in (1..all.len()).rev() {
                all.swap(i, rng.below(i as u64 + 1) as usize);
            }
            all.truncate(size);
            return all;
        }
        while out.len() < size {
            let id = rng.below(contracts as u64) as i64 + 1;
            if chosen.insert(id) {
                out.push(id);
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Cpf,
    Cnpj,
    CnpjAlpha,
}

/// The rows of a run of consecutive customers.
#[derive(Default)]
pub struct Batch {
    pub customers: Vec<CustomerRow>,
    pub contacts: Vec<ContactRow>,
    pub contracts: Vec<ContractRow>,
    pub services: Vec<ServiceRow>,
    pub logins: Vec<LoginRows>,
    pub invoices: Vec<InvoiceRow>,
    pub sessions: Vec<SessionRow>,
}

impl Batch {
    /// What the seeder writes; `logins` are FreeRADIUS's, provisioned apart.
    pub fn rows(&self) -> Rows<'_> {
        Rows {
            customers: &self.customers,
            contacts: &self.contacts,
            contracts: &self.contracts,
            services: &self.services,
            invoices: &self.invoices,
            sessions: &self.sessions,
            ..Rows::default()
        }
    }
}

/// Plans, POPs (with their network elements) and one NAS per POP.
pub struct Catalogs {
    pub plans: Vec<PlanRow>,
    pub pops: Vec<PopRow>,
    pub elements: Vec<ElementRow>,
    pub nas: Vec<NasRow>,
}

impl Catalogs {
    pub fn rows(&self) -> Rows<'_> {
        Rows {
            plans: &self.plans,
            pops: &self.pops,
            elements: &self.elements,
            nas: &self.nas,
            ..Rows::default()
        }
    }
}

pub fn catalogs(shape: &Shape) -> Catalogs {
    let plans = PLANS
        .iter()
        .enumerate()
        .map(|(i, (name, down, up, price, group, _))| PlanRow {
            id: i as i64 + 1,
            name: name.to_string(),
            download_kbps: *down,
            upload_kbps: *up,
            price_cents: *price,
            radius_group: group.to_string(),
        })
        .collect();
    let mut pops = Vec::new();
    let mut elements = Vec::new();
    for pop in 1..=shape.pops {
        let city = CITIES[(pop as usize - 1) % CITIES.len()];
        pops.push(PopRow {
            id: pop,
            name: format!("POP {city} {pop:03}"),
            city: city.to_string(),
        });
        for e in 1..=shape.elements_per_pop {
            elements.push(ElementRow {
                id: (pop - 1) * shape.elements_per_pop + e,
                name: format!("OLT {pop:03}-{e:02}"),
                pop_id: pop,
            });
        }
    }
    // One NAS per POP, at private addresses, never probed (check_method none).
    let nas = (1..=shape.nas_count())
        .map(|id| NasRow {
            id,
            nasname: Shape::nas_ip(id),
            shortname: format!("bng-{id:03}"),
            secret: format!("segredo-{id:03}"),
            pop_id: id,
        })
        .collect();
    Catalogs {
        plans,
        pops,
        elements,
        nas,
    }
}

/// A few maintenances: one in force on a network element (a small share of the contracts,
/// whatever the size, so that `verificaacesso` mostly reads), one on a NAS last week, and
/// past ones resolved.
pub fn maintenances(shape: &Shape) -> Vec<MaintenanceRow> {
    let now = shape.now;
    let hours = TimeDelta::hours;
    let mut out = Vec::new();
    let mut add = |description: String,
                   ivr_message: Option<&'static str>,
                   severity: i64,
                   status: i64,
                   starts_at: DateTime<Utc>,
                   expected_end: Option<DateTime<Utc>>,
                   resolved_at: Option<DateTime<Utc>>,
                   nas: Vec<i64>,
                   elements: Vec<i64>| {
        out.push(MaintenanceRow {
            id: out.len() as i64 + 1,
            description,
            ivr_message,
            severity,
            status,
            starts_at,
            expected_end,
            resolved_at,
            created_at: starts_at,
            pops: Vec::new(),
            nas,
            elements,
        });
    };
    let element = shape.elements();
    add(
        format!("Rompimento de fibra na OLT {element}"),
        Some("Manutenção na região"),
        4,
        2,
        now - hours(1),
        Some(now + hours(2)),
        None,
        vec![],
        vec![element],
    );
    let nas = shape.nas_count();
    let start = now - hours(24 * 7);
    add(
        format!("Troca de fonte do concentrador bng-{nas:03}"),
        None,
        3,
        4,
        start,
        Some(start + hours(1)),
        Some(start + hours(1)),
        vec![nas],
        vec![],
    );
    for k in 1..=20i64 {
        let element = 1 + (k * 7919) % shape.elements();
        let start = now - hours(24 * 9 * k);
        add(
            format!("Atualização de firmware da OLT {element}"),
            Some("Manutenção programada"),
            1,
            4,
            start,
            Some(start + hours(2)),
            Some(start + hours(1)),
            vec![],
            vec![element],
        );
    }
    out
}

/// Where the next batch starts: the ids of contracts and invoices run on across batches.
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub customer: u64,
    pub contract: i64,
    pub invoice: i64,
    pub session: i64,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            customer: 0,
            contract: 1,
            invoice: 1,
            session: 1,
        }
    }
}

/// Contract statuses with their weight in a thousand: mostly active, some suspended,
/// cancelled, at reduced speed, inactive or new.
const STATUSES: &[(i64, u64)] = &[(1, 820), (4, 80), (3, 60), (7, 20), (2, 10), (6, 10)];

fn ascii_lower(text: &str) -> String {
    crate::domain::name_fold::fold(text)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect::<String>()
}

fn date_in_month(year: i32, month: u32, day: u32) -> NaiveDate {
    let mut d = day;
    loop {
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, d) {
            return date;
        }
        d -= 1;
    }
}

fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date + Days::new(days as u64)
    } else {
        date - Days::new(days.unsigned_abs())
    }
}

/// Generates customers `cursor.customer .. cursor.customer + count` and everything they
/// own; moves the cursor past them.
pub fn batch(
    shape: &Shape,
    radius_settings: &RadiusSettings,
    cursor: &mut Cursor,
    count: u64,
) -> Batch {
    let mut b = Batch::default();
    let end = (cursor.customer + count).min(shape.customers);
    let month_start = date_in_month(shape.today.year(), shape.today.month(), 1);
    for index in cursor.customer..end {
        let mut rng = Rng::new(shape.seed, STREAM_CUSTOMER, index);
        let customer_id = index as i64 + 1;
        let kind = match rng.below(1000) {
            0..900 => DocKind::Cpf,
            900..970 => DocKind::Cnpj,
            _ => DocKind::CnpjAlpha,
        };
        let business = kind != DocKind::Cpf;
        let first = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(SURNAMES);
        let name = if business {
            format!(
                "{} {} {}",
                rng.pick(COMPANY_WORDS),
                last,
                rng.pick(COMPANY_SUFFIXES)
            )
        } else {
            format!("{first} {} {last}", rng.pick(SURNAMES))
        };
        let birth_date = (!business).then(|| {
            let year = 1940 + rng.below(66) as i32;
            date_in_month(year, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32).to_string()
        });
        let created = shape.now - TimeDelta::days(30 + rng.below(3650) as i64);
        b.customers.push(CustomerRow {
            id: customer_id,
            name,
            document: shape.document(index, kind),
            birth_date,
            created_at: ts(created),
        });
        let handle = if business {
            ascii_lower(last)
        } else {
            format!("{}.{}", ascii_lower(first), ascii_lower(last))
        };
        if rng.chance(750) {
            b.contacts.push(ContactRow {
                customer_id,
                kind: "email",
                value: format!("{handle}{customer_id}@{}", rng.pick(EMAIL_DOMAINS)),
            });
        }
        if rng.chance(850) {
            b.contacts.push(ContactRow {
                customer_id,
                kind: "mobile",
                value: format!(
                    "{}9{:08}",
                    rng.pick(DDDS),
                    81_000_000 + rng.below(19_000_000)
                ),
            });
        }
        if rng.chance(100) {
            b.contacts.push(ContactRow {
                customer_id,
                kind: "phone",
                value: format!("{}3{:07}", rng.pick(DDDS), rng.below(10_000_000)),
            });
        }

        // About 1.2 contracts per customer.
        let contracts = match rng.below(1000) {
            0..820 => 1,
            820..980 => 2,
            _ => 3,
        };
        for _ in 0..contracts {
            let contract_id = cursor.contract;
            cursor.contract += 1;
            let mut roll = rng.below(1000);
            let mut status = 1;
            for (s, weight) in STATUSES {
                if roll < *weight {
                    status = *s;
                    break;
                }
                roll -= weight;
            }
            let status_mode = if status == 4 && rng.chance(150) { 2 } else { 1 };
            let pop_id = 1 + rng.below(shape.pops as u64) as i64;
            let due_day = *rng.pick(&[5, 10, 15, 20, 25]);
            b.contracts.push(ContractRow {
                id: contract_id,
                customer_id,
                status,
                status_mode,
                pop_id,
                due_day,
                address: format!(
                    "{}, {}, {}",
                    rng.pick(STREETS),
                    1 + rng.below(3000),
                    rng.pick(DISTRICTS)
                ),
                created_at: ts(created + TimeDelta::days(rng.below(30) as i64)),
            });

            // One internet service per contract, with the contract's id.
            let plan_index = if business {
                5 + rng.below(3) as usize
            } else {
                rng.below(5) as usize
            };
            let plan = PLANS[plan_index];
            let enabled = matches!(status, 1 | 7);
            let login = format!("{handle}{contract_id}");
            let password: String = (0..10)
                .map(|_| {
                    char::from(
                        *rng.pick(b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"),
                    )
                })
                .collect();
            let id_bytes = (contract_id as u64).to_be_bytes();
            let mac = format!(
                "02:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
                id_bytes[3], id_bytes[4], id_bytes[5], id_bytes[6], id_bytes[7]
            );
            let element_id = (pop_id - 1) * shape.elements_per_pop
                + 1
                + rng.below(shape.elements_per_pop as u64) as i64;
            b.logins.push(LoginRows {
                login: login.clone(),
                password: password.clone(),
                group: radius::group_for(radius_settings, status, enabled, Some(plan.4)),
            });
            let nas_id = pop_id;
            let nas_ip = Shape::nas_ip(nas_id);

            // Twelve invoices: ten past months, this month and the next.
            for k in 0..12u32 {
                let month = if k < 10 {
                    month_start - Months::new(10 - k)
                } else {
                    month_start + Months::new(k - 10)
                };
                let due = date_in_month(month.year(), month.month(), due_day as u32);
                let id = cursor.invoice;
                cursor.invoice += 1;
                let cents = plan.3;
                let overdue = due < shape.today;
                let recent = k >= 8;
                let state = match status {
                    // Cancelled: the last months cancelled, the rest paid.
                    3 if recent => "cancelled",
                    3 => "paid",
                    // Suspended: the latest overdue invoices are open.
                    4 if overdue && recent => "open",
                    _ if !overdue => "open",
                    _ if rng.chance(30) => "open",
                    _ => "paid",
                };
                let (paid_on, paid_cents) = if state == "paid" {
                    let paid = add_days(due, rng.below(9) as i64 - 5).min(shape.today);
                    (Some(paid.to_string()), Some(cents))
                } else {
                    (None, None)
                };
                let (barcode, digitable_line, pix_payload) = if state == "open" {
                    let free_field = format!("{:025}", 7_000_000_000_000_i64 + id);
                    let barcode = boleto::barcode("001", '9', Some(due), cents as u64, &free_field);
                    let linha = barcode.as_deref().and_then(boleto::linha_digitavel);
                    let pix = pix::build(&pix::PixPayload {
                        key: PIX_KEY.into(),
                        merchant_name: "PROVEDOR SINTETICO".into(),
                        merchant_city: "NATAL".into(),
                        amount_cents: Some(cents as u64),
                        txid: format!("FAT{id}"),
                    });
                    (barcode, linha, Some(pix))
                } else {
                    (None, None, None)
                };
                b.invoices.push(InvoiceRow {
                    id,
                    contract_id,
                    amount_cents: cents,
                    issued_on: add_days(due, -20).to_string(),
                    due_on: due.to_string(),
                    status: state,
                    paid_on,
                    paid_cents,
                    cancelled_on: (state == "cancelled").then(|| due.to_string()),
                    barcode,
                    digitable_line,
                    pix_payload,
                });
            }

            // RADIUS accounting: an open session for most services in service, and the
            // session before it for many.
            let open = enabled && rng.chance(900);
            let open_start = shape.now - TimeDelta::seconds(600 + rng.below(30 * 86_400) as i64);
            let framed_ip = format!(
                "100.{}.{}.{}",
                64 + (contract_id >> 16) % 64,
                (contract_id >> 8) % 256,
                contract_id % 256
            );
            if rng.chance(600) || !enabled {
                let stop = open_start - TimeDelta::seconds(5 + rng.below(3600) as i64);
                let start = stop - TimeDelta::seconds(60 + rng.below(20 * 86_400) as i64);
                b.sessions.push(session(
                    &mut rng,
                    cursor,
                    &login,
                    &nas_ip,
                    &mac,
                    &framed_ip,
                    start,
                    Some(stop),
                    if enabled {
                        "Lost-Carrier"
                    } else {
                        "Admin-Reset"
                    },
                ));
            }
            if open {
                let update = shape.now - TimeDelta::seconds(rng.below(300) as i64);
                b.sessions.push(session(
                    &mut rng, cursor, &login, &nas_ip, &mac, &framed_ip, open_start, None, "",
                ));
                if let Some(last) = b.sessions.last_mut() {
                    last.update = update;
                    last.session_time = (update - open_start).num_seconds();
                }
            }

            b.services.push(ServiceRow {
                id: contract_id,
                contract_id,
                login,
                password,
                plan_id: plan_index as i64 + 1,
                nas_id,
                element_id,
                mac,
                enabled: i64::from(enabled),
            });
        }
    }
    cursor.customer = end;
    b
}

#[allow(clippy::too_many_arguments)]
fn session(
    rng: &mut Rng,
    cursor: &mut Cursor,
    login: &str,
    nas_ip: &str,
    mac: &str,
    framed_ip: &str,
    start: DateTime<Utc>,
    stop: Option<DateTime<Utc>>,
    cause: &'static str,
) -> SessionRow {
    let n = cursor.session;
    cursor.session += 1;
    let end = stop.unwrap_or(start);
    let time = (end - start).num_seconds().max(0);
    SessionRow {
        session_id: format!("{:08X}", rng.next_u64() as u32),
        unique_id: format!("{n:016x}{:016x}", rng.next_u64()),
        login: login.to_string(),
        nas_ip: nas_ip.to_string(),
        start,
        update: end,
        stop,
        session_time: time,
        input_octets: Some(time * (1000 + rng.below(200_000) as i64)),
        output_octets: Some(time * (5000 + rng.below(2_000_000) as i64)),
        calling_station: mac.to_string(),
        terminate_cause: cause,
        framed_ip: framed_ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(n: u64) -> Shape {
        let now = DateTime::parse_from_rfc3339("2026-03-15T12:00:00Z")
            .unwrap()
            .to_utc();
        Shape::new(n, 42, now, now.date_naive())
    }

    #[test]
    fn documents_are_valid_and_distinct() {
        let s = shape(20_000);
        let mut seen = std::collections::HashSet::new();
        for i in 0..20_000 {
            for kind in [DocKind::Cpf, DocKind::Cnpj, DocKind::CnpjAlpha] {
                let doc = s.document(i, kind);
                let parsed = document::parse(&doc).unwrap_or_else(|| panic!("{doc} valid"));
                assert_eq!(parsed.as_str(), doc);
                assert!(seen.insert(doc));
            }
        }
        assert!(
            s.document(7, DocKind::CnpjAlpha)
                .bytes()
                .any(|b| b.is_ascii_uppercase())
        );
    }

    #[test]
    fn batches_are_deterministic_and_consistent() {
        let s = shape(3_000);
        let settings = RadiusSettings::default();
        let mut a = Cursor::default();
        let first = batch(&s, &settings, &mut a, 3_000);
        let mut b = Cursor::default();
        let half = batch(&s, &settings, &mut b, 1_500);
        let rest = batch(&s, &settings, &mut b, 5_000);
        assert_eq!(first.customers.len(), 3_000);
        assert_eq!(half.customers.len() + rest.customers.len(), 3_000);
        assert_eq!(
            first.contracts.len(),
            half.contracts.len() + rest.contracts.len()
        );
        assert_eq!(first.invoices.len(), 12 * first.contracts.len());
        assert_eq!(first.services.len(), first.contracts.len());
        assert_eq!(first.logins.len(), first.services.len());
        let ratio = first.contracts.len() as f64 / 3_000.0;
        assert!((1.1..1.3).contains(&ratio), "{ratio}");
        assert_eq!(rest.customers[0].document, first.customers[1_500].document);
        assert_eq!(
            rest.services[0].login,
            first.services[half.services.len()].login
        );
        let logins: std::collections::HashSet<&str> =
            first.services.iter().map(|s| s.login.as_str()).collect();
        assert_eq!(logins.len(), first.services.len());
        for inv in first.invoices.iter().filter(|i| i.status == "open") {
            let barcode = inv.barcode.as_deref().expect("barcode");
            assert!(boleto::validate_barcode(barcode));
            assert!(pix::validate(inv.pix_payload.as_deref().expect("pix")));
        }
        assert!(first.sessions.iter().any(|s| s.stop.is_none()));
        let ids: std::collections::HashSet<&str> = first
            .sessions
            .iter()
            .map(|s| s.unique_id.as_str())
            .collect();
        assert_eq!(ids.len(), first.sessions.len());
    }

    #[test]
    fn samples_are_distinct() {
        let s = shape(100);
        let few = s.sample_contracts(1_000, 100);
        assert_eq!(few.len(), 100);
        let all = s.sample_contracts(120, 10_000);
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, (1..=120).collect::<Vec<_>>());
    }
}
