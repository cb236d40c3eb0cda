//! The nosso número reduced to one form, so that an invoice registered with the number as the
//! return file prints it, or as the bank's slip prints it, matches the return file's line.

/// The key an invoice's nosso número and a return file's are compared by. `bank` is the
/// three-digit bank code when known.
pub fn key(bank: Option<&str>, raw: &str) -> String {
    let _ = bank;
    let digits: String = raw.chars().filter(char::is_ascii_alphanumeric).collect();
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_ascii_uppercase()
    }
}
