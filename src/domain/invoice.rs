//! Late-payment charges of an invoice (CONTRACT.md §3): a one-time fine (`multa`, 2 % by
//! default) plus daily interest (`juros`, 1 % a month pro rata per day by default) counted
//! from the day after the due date through today.
//!
//! Everything is integer arithmetic on centavos so the same invoice always yields the same
//! centavo on every backend and platform: percentages are turned once into integer
//! millionths and products are taken in `i128`, which cannot overflow for any `i64` amount,
//! any date chrono can represent and the clamped percentages below.

use chrono::NaiveDate;

/// Default fine, in percent of the amount, that callers use when nothing is configured.
pub const DEFAULT_FINE_PERCENT: f64 = 2.0;
/// Default interest, in percent of the amount per month, that callers use likewise.
pub const DEFAULT_INTEREST_PERCENT_MONTH: f64 = 1.0;

/// Days of the commercial month used to turn a monthly rate into a daily one.
const DAYS_PER_MONTH: i128 = 30;
/// Percentages are kept as integer millionths of the amount: 1 % = 10 000. Four decimal
/// places of a percent are far more than any contract states.
const PERCENT_SCALE: f64 = 10_000.0;
const MILLIONTHS: i128 = 1_000_000;
/// 1 000 000 %: absurd as a rate, but a bound that keeps every product inside `i128`
/// (i64::MAX × 10^10 × 2×10^8 days ≈ 1.8×10^37 < i128::MAX ≈ 1.7×10^38).
const MAX_PERCENT_MILLIONTHS: i128 = 10_000_000_000;

/// What a late invoice costs today. `total_cents` is what the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charges {
    pub days_late: i64,
    pub fine_cents: i64,
    pub interest_cents: i64,
    pub total_cents: i64,
}

/// The corrected amount of an invoice of `amount_cents` due on `due`, paid on `today`.
///
/// Not late (`today <= due`): no charges and the total is the amount. Late: the fine is
/// `amount × fine_percent / 100` and the interest `amount × interest_percent_month / 100 /
/// 30 × days_late`, each rounded half-up to the centavo on its own (so the fine does not
/// depend on the days and the lines of a bill add up to its total).
///
/// Never panics: percentages that are negative or NaN count as zero, absurdly large ones are
/// clamped, amounts of zero or less carry no charges (a credit does not accrue interest) and
/// the total saturates at `i64::MAX`.
pub fn corrected(
    amount_cents: i64,
    due: NaiveDate,
    today: NaiveDate,
    fine_percent: f64,
    interest_percent_month: f64,
) -> Charges {
    let days_late = today.signed_duration_since(due).num_days();
    if days_late <= 0 || amount_cents <= 0 {
        return Charges {
            days_late: days_late.max(0),
            fine_cents: 0,
            interest_cents: 0,
            total_cents: amount_cents,
        };
    }
    let amount = i128::from(amount_cents);
    let fine = round_half_up(amount.saturating_mul(millionths(fine_percent)), MILLIONTHS);
    let interest = round_half_up(
        amount
            .saturating_mul(millionths(interest_percent_month))
            .saturating_mul(i128::from(days_late)),
        MILLIONTHS * DAYS_PER_MONTH,
    );
    let fine_cents = saturate(fine);
    let interest_cents = saturate(interest);
    Charges {
        days_late,
        fine_cents,
        interest_cents,
        total_cents: amount_cents
            .saturating_add(fine_cents)
            .saturating_add(interest_cents),
    }
}

/// A percentage as integer millionths of the amount (`2.0` → 20 000), rounded to the
/// nearest; NaN and negatives are 0 since a negative charge would be a discount nobody
/// configured on purpose.
fn millionths(percent: f64) -> i128 {
    if percent.is_nan() || percent <= 0.0 {
        return 0;
    }
    // `as` saturates for huge values and infinity; the clamp keeps products in range.
    ((percent * PERCENT_SCALE).round() as i128).min(MAX_PERCENT_MILLIONTHS)
}

/// `numerator / denominator` rounded half-up, for a non-negative numerator and a positive
/// denominator (half-up and half-away-from-zero agree there).
fn round_half_up(numerator: i128, denominator: i128) -> i128 {
    numerator.saturating_add(denominator / 2) / denominator
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn defaults(amount: i64, due: NaiveDate, today: NaiveDate) -> Charges {
        corrected(
            amount,
            due,
            today,
            DEFAULT_FINE_PERCENT,
            DEFAULT_INTEREST_PERCENT_MONTH,
        )
    }

    #[test]
    fn ten_days_late() {
        // Fine 49.90 × 2 % = 0.998 → 1.00; interest 49.90 × 1 % / 30 × 10 = 0.1663 → 0.17.
        let c = defaults(4990, ymd(2026, 3, 1), ymd(2026, 3, 11));
        assert_eq!(
            c,
            Charges {
                days_late: 10,
                fine_cents: 100,
                interest_cents: 17,
                total_cents: 5107,
            }
        );
    }

    #[test]
    fn more_hand_computed_examples() {
        // One day: 129.90 × 2 % = 2.598 → 2.60; 129.90 × 1 % / 30 = 0.0433 → 0.04.
        let c = defaults(12990, ymd(2026, 1, 31), ymd(2026, 2, 1));
        assert_eq!((c.days_late, c.fine_cents, c.interest_cents), (1, 260, 4));
        assert_eq!(c.total_cents, 13254);
        // Forty days: 49.90 × 1 % / 30 × 40 = 0.66533 → 0.67.
        let c = defaults(4990, ymd(2026, 1, 1), ymd(2026, 2, 10));
        assert_eq!((c.days_late, c.fine_cents, c.interest_cents), (40, 100, 67));
        assert_eq!(c.total_cents, 5157);
        // Exactly half a centavo rounds up: 0.25 × 2 % = 0.005 → 0.01.
        let c = defaults(25, ymd(2026, 1, 1), ymd(2026, 1, 2));
        assert_eq!(c.fine_cents, 1);
        // Just under half rounds down: 0.24 × 2 % = 0.0048 → 0.00.
        let c = defaults(24, ymd(2026, 1, 1), ymd(2026, 1, 2));
        assert_eq!(c.fine_cents, 0);
        // A leap year's February 29 counts as a day like any other.
        let c = defaults(300_000, ymd(2028, 2, 28), ymd(2028, 3, 1));
        assert_eq!(
            (c.days_late, c.fine_cents, c.interest_cents),
            (2, 6000, 200)
        );
    }

    #[test]
    fn on_or_before_due_date_costs_nothing() {
        for today in [ymd(2026, 3, 10), ymd(2026, 3, 1), ymd(1999, 1, 1)] {
            let c = defaults(4990, ymd(2026, 3, 10), today);
            assert_eq!(
                c,
                Charges {
                    days_late: 0,
                    fine_cents: 0,
                    interest_cents: 0,
                    total_cents: 4990,
                }
            );
        }
    }

    #[test]
    fn other_rates() {
        // Fractional rates: 100.00 × 0.33 % = 0.33; 100.00 × 0.5 % / 30 × 3 = 0.05.
        let c = corrected(10_000, ymd(2026, 1, 1), ymd(2026, 1, 4), 0.33, 0.5);
        assert_eq!(
            (c.fine_cents, c.interest_cents, c.total_cents),
            (33, 5, 10_038)
        );
        // No fine and no interest configured: late but nothing to add.
        let c = corrected(10_000, ymd(2026, 1, 1), ymd(2026, 1, 4), 0.0, 0.0);
        assert_eq!((c.days_late, c.total_cents), (3, 10_000));
        // Nonsense rates are ignored rather than turned into discounts.
        let c = corrected(10_000, ymd(2026, 1, 1), ymd(2026, 1, 4), -2.0, f64::NAN);
        assert_eq!(c.total_cents, 10_000);
    }

    #[test]
    fn extremes_saturate_instead_of_panicking() {
        let c = corrected(
            i64::MAX,
            NaiveDate::MIN,
            NaiveDate::MAX,
            f64::INFINITY,
            f64::MAX,
        );
        assert_eq!(c.total_cents, i64::MAX);
        assert!(c.days_late > 0);
        let c = corrected(0, NaiveDate::MIN, NaiveDate::MAX, 2.0, 1.0);
        assert_eq!(c.total_cents, 0);
        let c = corrected(i64::MIN, NaiveDate::MIN, NaiveDate::MAX, 2.0, 1.0);
        assert_eq!(c.total_cents, i64::MIN);
    }

    fn date() -> impl Strategy<Value = NaiveDate> {
        (0u64..40_000).prop_map(|d| ymd(2000, 1, 1) + Days::new(d))
    }

    proptest! {
        #[test]
        fn not_late_is_the_amount(amount in 0i64..=i64::MAX, due in date(), back in 0u64..5_000) {
            let today = due.checked_sub_days(Days::new(back)).unwrap_or(due);
            let c = defaults(amount, due, today);
            prop_assert_eq!(c.total_cents, amount);
            prop_assert_eq!((c.days_late, c.fine_cents, c.interest_cents), (0, 0, 0));
        }

        #[test]
        fn late_adds_fine_and_interest(amount in 0i64..10_000_000_000, due in date(), days in 1u64..5_000) {
            let c = defaults(amount, due, due + Days::new(days));
            prop_assert_eq!(c.days_late as u64, days);
            prop_assert!(c.total_cents >= amount + c.fine_cents);
            prop_assert_eq!(c.total_cents, amount + c.fine_cents + c.interest_cents);
            prop_assert!(c.interest_cents >= 0 && c.fine_cents >= 0);
        }

        #[test]
        fn monotone_in_days_late(amount in 0i64..10_000_000_000, due in date(), a in 0u64..5_000, b in 0u64..5_000) {
            let (near, far) = (a.min(b), a.max(b));
            let early = defaults(amount, due, due + Days::new(near));
            let late = defaults(amount, due, due + Days::new(far));
            prop_assert!(early.total_cents <= late.total_cents);
            prop_assert!(early.interest_cents <= late.interest_cents);
        }

        #[test]
        fn fine_does_not_depend_on_days(amount in 0i64..10_000_000_000, due in date(), a in 1u64..5_000, b in 1u64..5_000) {
            let one = defaults(amount, due, due + Days::new(a));
            let other = defaults(amount, due, due + Days::new(b));
            prop_assert_eq!(one.fine_cents, other.fine_cents);
        }

        #[test]
        fn never_panics(
            amount in any::<i64>(),
            due in any::<i32>(),
            today in any::<i32>(),
            fine in any::<f64>(),
            interest in any::<f64>(),
        ) {
            let day = |n: i32| NaiveDate::from_num_days_from_ce_opt(n).unwrap_or(NaiveDate::MAX);
            let c = corrected(amount, day(due), day(today), fine, interest);
            prop_assert!(c.days_late >= 0 && c.fine_cents >= 0 && c.interest_cents >= 0);
            if amount >= 0 {
                prop_assert!(c.total_cents >= amount);
            }
        }
    }
}
