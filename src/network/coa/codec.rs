//! The RFC 5176 (Disconnect-Request, CoA-Request) and RFC 5997 (Status-Server) codec: builds
//! requests with Message-Authenticator, parses datagrams, checks and decodes replies. Pure: no
//! sockets, no clock, no randomness (the caller hands in any random octets), so that the
//! client, the NAS simulator and the fuzz target share one implementation.
//!
//! Packets are assembled by hand here rather than with `radius::core::packet::Packet`: the
//! crate neither adds nor checks Message-Authenticator, and its response check hashes the
//! whole datagram instead of `Length` octets. The crate still supplies the codes and attribute
//! numbers.

use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use radius::core::code::Code;
use radius::core::{rfc2865, rfc2866, rfc2869, rfc3162, rfc3576, rfc6911};
use subtle::ConstantTimeEq;

/// The port RFC 5176 assigns to Dynamic Authorization servers.
pub const COA_PORT: u16 = 3799;

pub(crate) const HEADER_LEN: usize = 20;
pub(crate) const MAX_PACKET_LEN: usize = 4096;
const MAX_ATTR_VALUE: usize = 253;

pub(crate) const CODE_ACCESS_ACCEPT: u8 = Code::AccessAccept as u8;
pub(crate) const CODE_ACCESS_REJECT: u8 = Code::AccessReject as u8;
pub(crate) const CODE_STATUS_SERVER: u8 = Code::StatusServer as u8;
pub(crate) const CODE_DISCONNECT_REQUEST: u8 = Code::DisconnectRequest as u8;
pub(crate) const CODE_DISCONNECT_ACK: u8 = Code::DisconnectACK as u8;
pub(crate) const CODE_DISCONNECT_NAK: u8 = Code::DisconnectNAK as u8;
pub(crate) const CODE_COA_REQUEST: u8 = Code::CoARequest as u8;
pub(crate) const CODE_COA_ACK: u8 = Code::CoAACK as u8;
pub(crate) const CODE_COA_NAK: u8 = Code::CoANAK as u8;

pub(crate) const ATTR_USER_NAME: u8 = rfc2865::USER_NAME_TYPE;
pub(crate) const ATTR_NAS_IP_ADDRESS: u8 = rfc2865::NAS_IP_ADDRESS_TYPE;
pub(crate) const ATTR_FRAMED_IP_ADDRESS: u8 = rfc2865::FRAMED_IP_ADDRESS_TYPE;
pub(crate) const ATTR_ACCT_SESSION_ID: u8 = rfc2866::ACCT_SESSION_ID_TYPE;
pub(crate) const ATTR_MESSAGE_AUTHENTICATOR: u8 = rfc2869::MESSAGE_AUTHENTICATOR_TYPE;
pub(crate) const ATTR_NAS_IPV6_ADDRESS: u8 = rfc3162::NAS_IPV6_ADDRESS_TYPE;
pub(crate) const ATTR_ERROR_CAUSE: u8 = rfc3576::ERROR_CAUSE_TYPE;
pub(crate) const ATTR_FRAMED_IPV6_ADDRESS: u8 = rfc6911::FRAMED_IPV6_ADDRESS_TYPE;

/// RFC 5176 §3.6 Error-Cause for "Session Context Not Found".
pub const ERROR_CAUSE_SESSION_NOT_FOUND: u32 = 503;

/// Identifies one session on the NAS; every attribute present is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionRef {
    pub user_name: String,
    pub acct_session_id: Option<String>,
    pub framed_ip: Option<IpAddr>,
    pub nas_ip: Option<IpAddr>,
}

/// What came of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ack,
    Nak {
        error_cause: Option<u32>,
    },
    /// No valid reply after every try.
    Timeout,
    /// The request could not be sent (bad input, socket error, no free identifier).
    Failed(String),
}

impl Outcome {
    /// Short pt-BR text for operators.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Ack => "NAS confirmou (ACK)".to_owned(),
            Outcome::Nak { error_cause: None } => {
                "NAS recusou (NAK) sem informar a causa".to_owned()
            }
            Outcome::Nak {
                error_cause: Some(c),
            } => format!("NAS recusou (NAK): {} ({c})", error_cause_text(*c)),
            Outcome::Timeout => "NAS não respondeu no tempo limite".to_owned(),
            Outcome::Failed(why) => format!("falha ao consultar o NAS: {why}"),
        }
    }

    pub fn is_ack(&self) -> bool {
        matches!(self, Outcome::Ack)
    }

    /// The NAS answered that it holds no such session (NAK with Error-Cause 503).
    pub fn session_not_found(&self) -> bool {
        matches!(
            self,
            Outcome::Nak {
                error_cause: Some(ERROR_CAUSE_SESSION_NOT_FOUND)
            }
        )
    }
}

/// pt-BR meaning of an RFC 5176 §3.6 Error-Cause value.
pub fn error_cause_text(cause: u32) -> &'static str {
    match cause {
        201 => "contexto residual da sessão removido",
        202 => "pacote EAP inválido",
        401 => "atributo não suportado",
        402 => "atributo obrigatório ausente",
        403 => "identificação do NAS não confere",
        404 => "requisição inválida",
        405 => "serviço não suportado",
        406 => "extensão não suportada",
        407 => "valor de atributo inválido",
        501 => "proibido administrativamente",
        502 => "requisição não roteável (proxy)",
        503 => "sessão não encontrada",
        504 => "sessão não pode ser removida",
        505 => "outro erro de processamento no proxy",
        506 => "recursos indisponíveis",
        507 => "requisição iniciada",
        508 => "seleção de múltiplas sessões não suportada",
        _ => "causa desconhecida",
    }
}

// ---------------------------------------------------------------------------------------------
// Wire format, shared with the simulator.

pub(crate) struct Attr<'a> {
    pub typ: u8,
    pub value: &'a [u8],
    /// Offset of the value within the packet.
    pub offset: usize,
}

/// A datagram checked for structure only (lengths); nothing is authenticated yet.
pub(crate) struct Parsed<'a> {
    pub code: u8,
    pub identifier: u8,
    pub authenticator: [u8; 16],
    /// Exactly `Length` octets: what follows is padding (RFC 2865 §3) and is not hashed.
    pub bytes: &'a [u8],
    pub attrs: Vec<Attr<'a>>,
}

impl<'a> Parsed<'a> {
    pub fn first(&self, typ: u8) -> Option<&'a [u8]> {
        self.attrs.iter().find(|a| a.typ == typ).map(|a| a.value)
    }

    pub fn string(&self, typ: u8) -> Option<String> {
        self.first(typ)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// First Error-Cause that is a well-formed 4-octet integer.
    pub fn error_cause(&self) -> Option<u32> {
        self.attrs
            .iter()
            .filter(|a| a.typ == ATTR_ERROR_CAUSE)
            .find_map(|a| <[u8; 4]>::try_from(a.value).ok())
            .map(u32::from_be_bytes)
    }
}

pub(crate) fn parse(datagram: &[u8]) -> Result<Parsed<'_>, &'static str> {
    if datagram.len() < HEADER_LEN {
        return Err("pacote curto");
    }
    let len = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&len) {
        return Err("campo Length inválido");
    }
    // RFC 2865 §3: shorter than Length is discarded, longer is padding.
    let Some(bytes) = datagram.get(..len) else {
        return Err("pacote menor que o campo Length");
    };
    let mut authenticator = [0u8; 16];
    authenticator.copy_from_slice(&bytes[4..HEADER_LEN]);
    let mut attrs = Vec::new();
    let mut i = HEADER_LEN;
    while i < len {
        let (Some(&typ), Some(&alen)) = (bytes.get(i), bytes.get(i + 1)) else {
            return Err("atributo truncado");
        };
        let alen = usize::from(alen);
        if alen < 2 {
            return Err("atributo com tamanho inválido");
        }
        let Some(value) = bytes.get(i + 2..i + alen) else {
            return Err("atributo ultrapassa o pacote");
        };
        attrs.push(Attr {
            typ,
            value,
            offset: i + 2,
        });
        i += alen;
    }
    Ok(Parsed {
        code: bytes[0],
        identifier: bytes[1],
        authenticator,
        bytes,
        attrs,
    })
}

fn md5_of(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hmac_md5(secret: &[u8], data: &[u8]) -> [u8; 16] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Md5> as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// How the Authenticator field of a packet being built is made.
#[derive(Clone, Copy)]
pub(crate) enum Sign {
    /// CoA/Disconnect-Request (basis 16 zero octets, RFC 5176 §2.3/§3.5) or any reply (basis =
    /// the Request Authenticator): Message-Authenticator is computed with the basis in the
    /// Authenticator field, then Authenticator = MD5(Code+Id+Length+basis+Attributes+Secret).
    Md5([u8; 16]),
    /// Status-Server (RFC 5997 §3): a random Request Authenticator, as for Access-Request;
    /// Message-Authenticator is computed over the packet with it in place.
    Random([u8; 16]),
}

/// Builds a packet with Message-Authenticator as its first attribute (where the
/// BlastRADIUS-era advice wants it, and harmless everywhere else).
pub(crate) fn build(
    code: u8,
    identifier: u8,
    attrs: &[(u8, &[u8])],
    secret: &[u8],
    sign: Sign,
) -> Result<Vec<u8>, String> {
    let mut pkt = Vec::with_capacity(64);
    pkt.extend_from_slice(&[code, identifier, 0, 0]);
    let basis = match sign {
        Sign::Md5(b) | Sign::Random(b) => b,
    };
    pkt.extend_from_slice(&basis);
    pkt.extend_from_slice(&[ATTR_MESSAGE_AUTHENTICATOR, 18]);
    let ma_at = pkt.len();
    pkt.extend_from_slice(&[0u8; 16]);
    for (typ, value) in attrs {
        if *typ == ATTR_MESSAGE_AUTHENTICATOR {
            return Err("o atributo Message-Authenticator é gerado pelo cliente".to_owned());
        }
        if value.len() > MAX_ATTR_VALUE {
            return Err(format!(
                "atributo {typ} com mais de {MAX_ATTR_VALUE} octetos"
            ));
        }
        pkt.push(*typ);
        // Bounded by MAX_ATTR_VALUE above.
        pkt.push((value.len() + 2) as u8);
        pkt.extend_from_slice(value);
    }
    if pkt.len() > MAX_PACKET_LEN {
        return Err(format!("pacote com mais de {MAX_PACKET_LEN} octetos"));
    }
    let len = (pkt.len() as u16).to_be_bytes();
    pkt[2..4].copy_from_slice(&len);
    let ma = hmac_md5(secret, &pkt);
    pkt[ma_at..ma_at + 16].copy_from_slice(&ma);
    if let Sign::Md5(_) = sign {
        let auth = md5_of(&[&pkt, secret]);
        pkt[4..HEADER_LEN].copy_from_slice(&auth);
    }
    Ok(pkt)
}

/// Whether Authenticator = MD5(Code+Id+Length+basis+Attributes+Secret): the Request
/// Authenticator of CoA/Disconnect-Request (basis zero) or any Response Authenticator (basis =
/// the request's authenticator).
pub(crate) fn authenticator_ok(p: &Parsed<'_>, basis: &[u8; 16], secret: &[u8]) -> bool {
    let expected = md5_of(&[&p.bytes[..4], basis, &p.bytes[HEADER_LEN..], secret]);
    bool::from(expected.ct_eq(&p.authenticator))
}

/// Checks Message-Authenticator: `None` when absent, else whether it verifies with `basis` in
/// the Authenticator field (RFC 3579 §3.2, RFC 5176 §3.5). More than one is invalid.
pub(crate) fn message_authenticator(
    p: &Parsed<'_>,
    basis: &[u8; 16],
    secret: &[u8],
) -> Option<bool> {
    let mut found = p
        .attrs
        .iter()
        .filter(|a| a.typ == ATTR_MESSAGE_AUTHENTICATOR);
    let ma = found.next()?;
    if found.next().is_some() || ma.value.len() != 16 {
        return Some(false);
    }
    let mut copy = p.bytes.to_vec();
    copy[4..HEADER_LEN].copy_from_slice(basis);
    copy[ma.offset..ma.offset + 16].fill(0);
    Some(bool::from(hmac_md5(secret, &copy).ct_eq(ma.value)))
}

// ---------------------------------------------------------------------------------------------
// Requests and their replies.

/// What a request asks; each takes its own reply codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Disconnect-Request (code 40).
    Disconnect,
    /// CoA-Request (code 43).
    Coa,
    /// Status-Server (code 12, RFC 5997).
    Status,
}

impl Request {
    pub fn code(self) -> u8 {
        match self {
            Request::Disconnect => CODE_DISCONNECT_REQUEST,
            Request::Coa => CODE_COA_REQUEST,
            Request::Status => CODE_STATUS_SERVER,
        }
    }

    pub fn from_code(code: u8) -> Option<Request> {
        match code {
            CODE_DISCONNECT_REQUEST => Some(Request::Disconnect),
            CODE_COA_REQUEST => Some(Request::Coa),
            CODE_STATUS_SERVER => Some(Request::Status),
            _ => None,
        }
    }

    /// What a reply of `code` means for this request; `None` when it answers something else.
    fn outcome(self, code: u8, error_cause: Option<u32>) -> Option<Outcome> {
        match (self, code) {
            (Request::Disconnect, CODE_DISCONNECT_ACK) | (Request::Coa, CODE_COA_ACK) => {
                Some(Outcome::Ack)
            }
            (Request::Disconnect, CODE_DISCONNECT_NAK) | (Request::Coa, CODE_COA_NAK) => {
                Some(Outcome::Nak { error_cause })
            }
            // Any authenticated answer proves the NAS is up and shares our secret.
            (Request::Status, _) => Some(Outcome::Ack),
            _ => None,
        }
    }
}

/// The attributes that name `s` on the NAS, in the order they are sent.
pub(crate) fn session_attrs(s: &SessionRef) -> Vec<(u8, Vec<u8>)> {
    let mut v = Vec::new();
    // RFC 2865 forbids an empty User-Name; leave it out instead.
    if !s.user_name.is_empty() {
        v.push((ATTR_USER_NAME, s.user_name.as_bytes().to_vec()));
    }
    if let Some(id) = s.acct_session_id.as_deref().filter(|id| !id.is_empty()) {
        v.push((ATTR_ACCT_SESSION_ID, id.as_bytes().to_vec()));
    }
    match s.framed_ip {
        Some(IpAddr::V4(ip)) => v.push((ATTR_FRAMED_IP_ADDRESS, ip.octets().to_vec())),
        Some(IpAddr::V6(ip)) => v.push((ATTR_FRAMED_IPV6_ADDRESS, ip.octets().to_vec())),
        None => {}
    }
    match s.nas_ip {
        Some(IpAddr::V4(ip)) => v.push((ATTR_NAS_IP_ADDRESS, ip.octets().to_vec())),
        Some(IpAddr::V6(ip)) => v.push((ATTR_NAS_IPV6_ADDRESS, ip.octets().to_vec())),
        None => {}
    }
    v
}

/// A request ready to send and the Request Authenticator its reply is checked against.
pub(crate) struct Encoded {
    pub bytes: Vec<u8>,
    pub authenticator: [u8; 16],
}

/// Builds request `kind` with `identifier`. `nonce` becomes the Request Authenticator of a
/// Status-Server, which RFC 5997 §3 wants random; the others' is a digest and ignores it.
pub(crate) fn encode_request(
    kind: Request,
    identifier: u8,
    attrs: &[(u8, &[u8])],
    secret: &[u8],
    nonce: [u8; 16],
) -> Result<Encoded, String> {
    let sign = match kind {
        Request::Status => Sign::Random(nonce),
        Request::Disconnect | Request::Coa => Sign::Md5([0; 16]),
    };
    let bytes = build(kind.code(), identifier, attrs, secret, sign)?;
    let mut authenticator = [0u8; 16];
    authenticator.copy_from_slice(&bytes[4..HEADER_LEN]);
    Ok(Encoded {
        bytes,
        authenticator,
    })
}

/// Why a well-formed reply to a pending request is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyRejected {
    Authenticator,
    MessageAuthenticator,
    Code,
}

impl ReplyRejected {
    /// pt-BR, as operators read it in the logs.
    pub(crate) fn text(self) -> &'static str {
        match self {
            ReplyRejected::Authenticator => "Response Authenticator inválido",
            ReplyRejected::MessageAuthenticator => "Message-Authenticator inválido",
            ReplyRejected::Code => "código de resposta inesperado",
        }
    }
}

/// The checks a reply to a pending request must pass, in order: Response Authenticator,
/// Message-Authenticator (when present), a reply code that answers the request's.
pub(crate) fn verify_reply(
    p: &Parsed<'_>,
    kind: Request,
    request_auth: &[u8; 16],
    secret: &[u8],
) -> Result<Outcome, ReplyRejected> {
    if !authenticator_ok(p, request_auth, secret) {
        return Err(ReplyRejected::Authenticator);
    }
    if message_authenticator(p, request_auth, secret) == Some(false) {
        return Err(ReplyRejected::MessageAuthenticator);
    }
    kind.outcome(p.code, p.error_cause())
        .ok_or(ReplyRejected::Code)
}

/// Decodes `datagram` as the reply to a request of code `request_code` (40 Disconnect, 43
/// CoA or 12 Status-Server) sent with Request Authenticator `request_auth`, applying every
/// check the client applies before it takes a reply: structure, Response Authenticator,
/// Message-Authenticator, reply code. Matching the identifier and the source address against
/// the pending request is left out. Public for the fuzz targets (`fuzz/`): whatever the bytes,
/// it returns and never panics.
pub fn decode_reply(
    datagram: &[u8],
    request_code: u8,
    request_auth: &[u8; 16],
    secret: &[u8],
) -> Result<Outcome, &'static str> {
    let Some(kind) = Request::from_code(request_code) else {
        return Err("código de requisição desconhecido");
    };
    let p = parse(datagram)?;
    verify_reply(&p, kind, request_auth, secret).map_err(ReplyRejected::text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // Computed independently (Python hashlib/hmac) from the RFC formulas:
    // MA = HMAC-MD5(secret, Code+Id+Length+16 zeros+Attributes with MA zeroed);
    // Request Authenticator = MD5(Code+Id+Length+16 zeros+Attributes+secret).
    const DISCONNECT_VECTOR: &str = "282a004737551d18e5929ea8494be4f2ae798a945012013b7d7259b14f0b7e4f\
        266916831fdd010b636c69656e746530312c0a383132303030303108066440000a04060a000001";
    // Disconnect-NAK to it with Error-Cause 503: MA over the packet with the Request
    // Authenticator in place, then Response Authenticator = MD5(...+RequestAuth+...+secret).
    const NAK_VECTOR: &str =
        "2a2a002c9e7f9aaf5d71f708d168be10b71aa5985012e5d323da943ad37aa732980e2075f1ff6506000001f7";
    const SECRET: &[u8] = b"segredo-coa";

    fn vector_session() -> SessionRef {
        SessionRef {
            user_name: "cliente01".into(),
            acct_session_id: Some("81200001".into()),
            framed_ip: Some("100.64.0.10".parse().unwrap()),
            nas_ip: Some("10.0.0.1".parse().unwrap()),
        }
    }

    fn by_hand_disconnect() -> Vec<u8> {
        // Independent of `build`: the RFC 5176 §3.5 steps written out with md-5 and hmac.
        let mut tail = vec![1, 11];
        tail.extend_from_slice(b"cliente01");
        tail.extend_from_slice(&[44, 10]);
        tail.extend_from_slice(b"81200001");
        tail.extend_from_slice(&[8, 6, 100, 64, 0, 10, 4, 6, 10, 0, 0, 1]);
        let len = 20 + 18 + tail.len();
        let mut pkt = vec![40, 42, 0, len as u8];
        pkt.extend_from_slice(&[0; 16]);
        pkt.extend_from_slice(&[80, 18]);
        pkt.extend_from_slice(&[0; 16]);
        pkt.extend_from_slice(&tail);
        let mut mac = <Hmac<Md5> as KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(&pkt);
        let ma = mac.finalize().into_bytes();
        pkt[22..38].copy_from_slice(&ma);
        let mut h = Md5::new();
        h.update(&pkt);
        h.update(SECRET);
        let auth = h.finalize();
        pkt[4..20].copy_from_slice(&auth);
        pkt
    }

    #[test]
    fn disconnect_request_matches_known_vector() {
        let attrs = session_attrs(&vector_session());
        let attrs: Vec<(u8, &[u8])> = attrs.iter().map(|(t, v)| (*t, v.as_slice())).collect();
        let built = build(40, 42, &attrs, SECRET, Sign::Md5([0; 16])).unwrap();
        assert_eq!(built, hex(DISCONNECT_VECTOR));
        assert_eq!(by_hand_disconnect(), hex(DISCONNECT_VECTOR));

        // The simulator's checks accept it.
        let p = parse(&built).unwrap();
        assert!(authenticator_ok(&p, &[0; 16], SECRET));
        assert_eq!(message_authenticator(&p, &[0; 16], SECRET), Some(true));
        assert!(!authenticator_ok(&p, &[0; 16], b"outro"));
        assert_eq!(message_authenticator(&p, &[0; 16], b"outro"), Some(false));
    }

    #[test]
    fn reply_checks_against_known_vector() {
        let req = hex(DISCONNECT_VECTOR);
        let mut req_auth = [0u8; 16];
        req_auth.copy_from_slice(&req[4..20]);
        let nak = hex(NAK_VECTOR);
        let p = parse(&nak).unwrap();
        assert!(authenticator_ok(&p, &req_auth, SECRET));
        assert_eq!(message_authenticator(&p, &req_auth, SECRET), Some(true));
        assert_eq!(p.error_cause(), Some(503));
        // The simulator's reply builder produces the same bytes.
        let cause = 503u32.to_be_bytes();
        let rebuilt = build(42, 42, &[(101, &cause)], SECRET, Sign::Md5(req_auth)).unwrap();
        assert_eq!(rebuilt, nak);

        // Any flipped bit in the attributes breaks both checks.
        let mut bad = nak.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let p = parse(&bad).unwrap();
        assert!(!authenticator_ok(&p, &req_auth, SECRET));
        assert_eq!(message_authenticator(&p, &req_auth, SECRET), Some(false));
        // Padding past Length is not hashed.
        let mut padded = nak.clone();
        padded.extend_from_slice(&[0xff; 7]);
        assert!(authenticator_ok(
            &parse(&padded).unwrap(),
            &req_auth,
            SECRET
        ));
    }

    #[test]
    fn decode_reply_applies_the_client_checks() {
        let req = hex(DISCONNECT_VECTOR);
        let mut req_auth = [0u8; 16];
        req_auth.copy_from_slice(&req[4..20]);
        let nak = hex(NAK_VECTOR);
        assert_eq!(
            decode_reply(&nak, CODE_DISCONNECT_REQUEST, &req_auth, SECRET),
            Ok(Outcome::Nak {
                error_cause: Some(503)
            })
        );
        // A Disconnect-NAK does not answer a CoA-Request; Status-Server takes any reply.
        assert!(decode_reply(&nak, CODE_COA_REQUEST, &req_auth, SECRET).is_err());
        assert_eq!(
            decode_reply(&nak, CODE_STATUS_SERVER, &req_auth, SECRET),
            Ok(Outcome::Ack)
        );
        assert!(decode_reply(&nak, CODE_DISCONNECT_REQUEST, &[0; 16], SECRET).is_err());
        assert!(decode_reply(&nak, CODE_DISCONNECT_REQUEST, &req_auth, b"outro").is_err());
        assert!(decode_reply(&nak, CODE_COA_ACK, &req_auth, SECRET).is_err());
        assert!(decode_reply(&nak[..19], CODE_DISCONNECT_REQUEST, &req_auth, SECRET).is_err());
    }

    #[test]
    fn status_server_carries_valid_message_authenticator() {
        let auth: [u8; 16] = std::array::from_fn(|i| i as u8);
        let pkt = build(12, 9, &[], SECRET, Sign::Random(auth)).unwrap();
        assert_eq!(&pkt[4..20], &auth);
        assert_eq!(pkt.len(), 38);
        let mut zeroed = pkt.clone();
        zeroed[22..38].fill(0);
        let mut mac = <Hmac<Md5> as KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(&zeroed);
        assert_eq!(&pkt[22..38], mac.finalize().into_bytes().as_slice());
        let p = parse(&pkt).unwrap();
        assert_eq!(message_authenticator(&p, &auth, SECRET), Some(true));
    }

    #[test]
    fn build_rejects_oversized_and_reserved_attributes() {
        assert!(build(43, 1, &[(11, &[0u8; 254])], SECRET, Sign::Md5([0; 16])).is_err());
        assert!(build(43, 1, &[(80, &[0u8; 16])], SECRET, Sign::Md5([0; 16])).is_err());
        let big = vec![0u8; 253];
        let many: Vec<(u8, &[u8])> = (0..17).map(|_| (26u8, big.as_slice())).collect();
        assert!(build(43, 1, &many, SECRET, Sign::Md5([0; 16])).is_err());
    }

    #[test]
    fn parse_rejects_malformed_without_panicking() {
        let ok = hex(NAK_VECTOR);
        assert!(parse(&[]).is_err());
        assert!(parse(&ok[..19]).is_err());
        let mut short_len = ok.clone();
        short_len[3] = 19;
        assert!(parse(&short_len).is_err());
        let mut long_len = ok.clone();
        long_len[3] = ok.len() as u8 + 1;
        assert!(parse(&long_len).is_err());
        let mut huge = ok.clone();
        huge[2] = 0x20;
        assert!(parse(&huge).is_err());
        let mut zero_attr = ok.clone();
        zero_attr[21] = 0;
        assert!(parse(&zero_attr).is_err());
        let mut over_attr = ok.clone();
        over_attr[21] = 200;
        assert!(parse(&over_attr).is_err());
        let mut odd = ok.clone();
        odd[3] += 1;
        odd.push(80);
        assert!(parse(&odd).is_err());
        // Random input: errors or parses, never panics; checks never panic either.
        for n in 0..20_000usize {
            let len = n % 64;
            let mut d: Vec<u8> = (0..len).map(|_| rand::random()).collect();
            if len >= 4 && n % 2 == 0 {
                d[2] = 0;
                d[3] = len as u8;
            }
            if let Ok(p) = parse(&d) {
                let _ = authenticator_ok(&p, &[0; 16], SECRET);
                let _ = message_authenticator(&p, &[0; 16], SECRET);
                let _ = p.error_cause();
            }
        }
    }

    #[test]
    fn outcome_texts() {
        let nak = Outcome::Nak {
            error_cause: Some(503),
        };
        assert!(nak.session_not_found());
        assert_eq!(
            nak.describe(),
            "NAS recusou (NAK): sessão não encontrada (503)"
        );
        assert!(
            !Outcome::Nak {
                error_cause: Some(504)
            }
            .session_not_found()
        );
        assert!(!Outcome::Nak { error_cause: None }.session_not_found());
        assert!(!Outcome::Ack.session_not_found());
        assert!(Outcome::Ack.is_ack());
        assert!(Outcome::Timeout.describe().contains("não respondeu"));
        assert!(Outcome::Failed("x".into()).describe().contains('x'));
        assert!(
            Outcome::Nak {
                error_cause: Some(999)
            }
            .describe()
            .contains("desconhecida")
        );
        for c in [
            201, 202, 401, 402, 403, 404, 405, 406, 407, 501, 502, 503, 504, 505, 506, 507, 508,
        ] {
            assert_ne!(error_cause_text(c), "causa desconhecida", "{c}");
        }
    }

    #[test]
    fn encode_request_signs_as_each_request_wants() {
        let attrs = session_attrs(&vector_session());
        let attrs: Vec<(u8, &[u8])> = attrs.iter().map(|(t, v)| (*t, v.as_slice())).collect();
        // Disconnect: the digest, whatever the nonce.
        let d = encode_request(Request::Disconnect, 42, &attrs, SECRET, [7; 16]).unwrap();
        assert_eq!(d.bytes, hex(DISCONNECT_VECTOR));
        assert_eq!(d.authenticator[..], d.bytes[4..20]);
        let c = encode_request(Request::Coa, 42, &attrs, SECRET, [7; 16]).unwrap();
        assert_eq!(c.bytes[0], CODE_COA_REQUEST);
        assert!(authenticator_ok(
            &parse(&c.bytes).unwrap(),
            &[0; 16],
            SECRET
        ));
        // Status-Server: the nonce itself.
        let s = encode_request(Request::Status, 9, &[], SECRET, [7; 16]).unwrap();
        assert_eq!(s.bytes[0], CODE_STATUS_SERVER);
        assert_eq!(s.authenticator, [7; 16]);
        for kind in [Request::Disconnect, Request::Coa, Request::Status] {
            assert_eq!(Request::from_code(kind.code()), Some(kind));
        }
        assert_eq!(Request::from_code(CODE_COA_ACK), None);
    }

    #[test]
    fn session_attrs_leave_out_what_is_unknown() {
        let none = SessionRef::default();
        assert!(session_attrs(&none).is_empty());
        let v6 = SessionRef {
            user_name: String::new(),
            acct_session_id: Some(String::new()),
            framed_ip: Some("2001:db8::1".parse().unwrap()),
            nas_ip: Some("2001:db8::2".parse().unwrap()),
        };
        let types: Vec<u8> = session_attrs(&v6).iter().map(|(t, _)| *t).collect();
        assert_eq!(types, vec![ATTR_FRAMED_IPV6_ADDRESS, ATTR_NAS_IPV6_ADDRESS]);
        let v4 = session_attrs(&vector_session());
        assert_eq!(
            v4.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            vec![
                ATTR_USER_NAME,
                ATTR_ACCT_SESSION_ID,
                ATTR_FRAMED_IP_ADDRESS,
                ATTR_NAS_IP_ADDRESS
            ]
        );
        assert_eq!(v4[2].1, vec![100, 64, 0, 10]);
    }
}
