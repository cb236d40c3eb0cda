//! Brazilian national holidays and business days, for rules that may act only on a business
//! day (the dunning rule's `dias_uteis`).
//!
//! National holidays only: the fixed dates of Lei 662/1949 (as amended by Lei 10.607/2002),
//! Lei 6.802/1980 (12 October) and Lei 14.759/2023 (20 November, from 2024), plus Good Friday
//! (Paixão de Cristo), which the federal calendar lists as a national holiday. Carnaval and
//! Corpus Christi are "pontos facultativos" of the federal calendar, not holidays, so they are
//! business days here; state and municipal holidays are not known either.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The first year in which 20 November (Dia Nacional de Zumbi e da Consciência Negra) is a
/// national holiday (Lei 14.759, of 21 December 2023).
const CONSCIENCIA_NEGRA_SINCE: i32 = 2024;

/// Easter Sunday of a Gregorian year (the anonymous "Meeus/Jones/Butcher" computus).
pub fn easter(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // Always a day of March or April, so the date exists.
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is in March or April")
}

/// Good Friday (Paixão de Cristo): two days before Easter.
pub fn good_friday(year: i32) -> NaiveDate {
    easter(year) - Days::new(2)
}

/// The national holidays of a year, in date order, with their names.
pub fn national_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let fixed =
        |month: u32, day: u32| NaiveDate::from_ymd_opt(year, month, day).expect("fixed date");
    let mut days = vec![
        (fixed(1, 1), "Confraternização Universal"),
        (good_friday(year), "Paixão de Cristo"),
        (fixed(4, 21), "Tiradentes"),
        (fixed(5, 1), "Dia do Trabalho"),
        (fixed(9, 7), "Independência do Brasil"),
        (fixed(10, 12), "Nossa Senhora Aparecida"),
        (fixed(11, 2), "Finados"),
        (fixed(11, 15), "Proclamação da República"),
        (fixed(12, 25), "Natal"),
    ];
    if year >= CONSCIENCIA_NEGRA_SINCE {
        days.push((
            fixed(11, 20),
            "Dia Nacional de Zumbi e da Consciência Negra",
        ));
    }
    days.sort();
    days
}

/// Whether `date` is a national holiday.
pub fn is_holiday(date: NaiveDate) -> bool {
    national_holidays(date.year())
        .iter()
        .any(|(day, _)| *day == date)
}

/// Monday to Friday, not a national holiday.
pub fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn easter_of_known_years() {
        for (year, date) in [
            (2000, "2000-04-23"),
            (2019, "2019-04-21"),
            (2023, "2023-04-09"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter(year), d(date), "{year}");
        }
    }

    #[test]
    fn good_friday_is_two_days_before_easter() {
        assert_eq!(good_friday(2024), d("2024-03-29"));
        assert_eq!(good_friday(2025), d("2025-04-18"));
        assert_eq!(good_friday(2026), d("2026-04-03"));
        assert!(is_holiday(d("2026-04-03")));
        assert_eq!(good_friday(2026).weekday(), Weekday::Fri);
    }

    #[test]
    fn fixed_holidays() {
        for date in [
            "2025-01-01",
            "2025-04-21",
            "2025-05-01",
            "2025-09-07",
            "2025-10-12",
            "2025-11-02",
            "2025-11-15",
            "2025-12-25",
        ] {
            assert!(is_holiday(d(date)), "{date}");
        }
        assert!(!is_holiday(d("2025-12-24")));
        assert!(!is_holiday(d("2025-04-22")));
    }

    #[test]
    fn consciencia_negra_only_from_2024() {
        assert!(!is_holiday(d("2023-11-20")));
        assert!(is_holiday(d("2024-11-20")));
        assert!(is_holiday(d("2025-11-20")));
        assert!(
            !is_business_day(d("2025-11-20")),
            "a Thursday, but a holiday"
        );
    }

    #[test]
    fn carnaval_and_corpus_christi_are_business_days() {
        // Carnaval is Easter - 47 (Tuesday), Corpus Christi Easter + 60 (Thursday).
        let carnaval_2025 = easter(2025) - Days::new(47);
        let corpus_christi_2025 = easter(2025) + Days::new(60);
        assert_eq!(carnaval_2025, d("2025-03-04"));
        assert_eq!(corpus_christi_2025, d("2025-06-19"));
        assert!(is_business_day(carnaval_2025));
        assert!(is_business_day(corpus_christi_2025));
    }

    #[test]
    fn weekends_are_not_business_days() {
        assert!(!is_business_day(d("2025-06-07")), "Saturday");
        assert!(!is_business_day(d("2025-06-08")), "Sunday");
        assert!(is_business_day(d("2025-06-09")), "Monday");
        assert!(!is_business_day(d("2025-12-25")), "Christmas, a Thursday");
    }

    #[test]
    fn a_year_has_nine_or_ten_holidays_in_order() {
        assert_eq!(national_holidays(2023).len(), 9);
        let days = national_holidays(2026);
        assert_eq!(days.len(), 10);
        assert!(days.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
