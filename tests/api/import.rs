//! `ura import`: invoices from CSV and JSON, checked line by line (the payment data
//! included), good lines upserted, bad ones reported with their line and field.

use std::process::Command;

use serde_json::json;

use crate::common::*;

fn import(app: &TestApp, file: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ura"))
        .args(["import"])
        .arg(file)
        .args(["--database", &app.settings.database_url])
        .env_remove("URA_DATABASE_URL")
        .current_dir(app.dir.path())
        .output()
        .expect("run ura import");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A valid slip for 79,90 due on 2026-12-20 and its PIX code.
fn slip() -> (String, String, String) {
    let due = chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    let barcode =
        ura::domain::boleto::barcode("341", '9', Some(due), 7990, "1234567890123456789012345")
            .unwrap();
    let line = ura::domain::boleto::linha_digitavel(&barcode).unwrap();
    let pix = ura::domain::pix::build(&ura::domain::pix::PixPayload {
        key: "12345678000195".into(),
        merchant_name: "PROVEDOR".into(),
        merchant_city: "NATAL".into(),
        amount_cents: Some(7990),
        txid: "FAT777001".into(),
    });
    (barcode, line, pix)
}

#[tokio::test]
async fn csv_lines_are_checked_and_the_good_ones_upserted() {
    let app = spawn().await;
    let (barcode, line, pix) = slip();
    let mut bad_barcode = barcode.clone().into_bytes();
    bad_barcode[43] = if bad_barcode[43] == b'0' { b'1' } else { b'0' };
    let bad_barcode = String::from_utf8(bad_barcode).unwrap();
    let formatted = ura::domain::boleto::format_linha(&line);
    let csv = format!(
        "id,contrato,numero_documento,valor,vencimento,status,codigo_barras,linha_digitavel,codigo_pix\n\
         777001,6001,777001,\"79,90\",2026-12-20,aberto,{barcode},{formatted},{pix}\n\
         777002,6001,777002,10.00,20/12/2026,aberto,{bad_barcode},,\n\
         777003,6001,777003,10.00,2026-12-20,aberto,,12345,\n\
         777004,6001,777004,10.00,2026-12-20,aberto,,,000201nada\n\
         777005,424242,777005,10.00,2026-12-20,aberto,,,\n\
         777006,6001,777006,dez,2026-12-20,aberto,,,\n\
         777007,6001,777007,10.00,2026-12-20,quitado,,,\n"
    );
    let file = app.dir.path().join("faturas.csv");
    std::fs::write(&file, csv).unwrap();
    let (code, stdout, stderr) = import(&app, &file);
    assert_ne!(code, 0, "bad lines make the command fail");
    assert!(
        stdout.contains("1 fatura(s) importada(s), 6 linha(s) com erro, de 7"),
        "{stdout}"
    );
    for expected in [
        "linha 3: codigo_barras:",
        "linha 4: linha_digitavel:",
        "linha 5: codigo_pix:",
        "linha 6: contrato: contrato 424242 não existe",
        "linha 7: valor:",
        "linha 8: status:",
    ] {
        assert!(stderr.contains(expected), "{expected} missing in {stderr}");
    }
    // The good line is there, completed (barcode from the linha), and visible to the API.
    assert_eq!(
        app.scalar_str("SELECT barcode FROM invoices WHERE id = 777001")
            .await
            .as_deref(),
        Some(barcode.as_str())
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM invoices WHERE id BETWEEN 777002 AND 777007")
            .await,
        0
    );
    let r = app.call("consultacliente", &[("contrato", "6001")]).await;
    assert_eq!(r.json["contratos"][0]["contratoValorAberto"], json!(79.9));

    // The same file again changes nothing; an edited line updates its invoice.
    let (_, stdout, _) = import(&app, &file);
    assert!(stdout.contains("1 fatura(s) importada(s)"), "{stdout}");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM invoices WHERE id = 777001")
            .await,
        1
    );
    let json_file = app.dir.path().join("faturas.json");
    std::fs::write(
        &json_file,
        serde_json::to_string(&json!([
            {"id": 777001, "contrato": 6001, "valor": 79.9, "vencimento": "2026-12-20",
             "status": "pago", "pagamento": "2026-12-01", "codigo_barras": barcode}
        ]))
        .unwrap(),
    )
    .unwrap();
    let (code, stdout, stderr) = import(&app, &json_file);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        app.scalar_str("SELECT status FROM invoices WHERE id = 777001")
            .await
            .as_deref(),
        Some("paid")
    );
    let r = app.call("consultacliente", &[("contrato", "6001")]).await;
    assert_eq!(r.json["contratos"][0]["contratoValorAberto"], json!(0));
    app.stop().await;
}

#[tokio::test]
async fn the_sample_file_imports_into_the_demo() {
    let app = spawn().await;
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/import/faturas.csv");
    let (code, stdout, stderr) = import(&app, &file);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("3 fatura(s) importada(s), 0 linha(s) com erro"),
        "{stdout}"
    );
    let r = app
        .call("titulos", &[("contrato", "1001"), ("status", "pagos")])
        .await;
    assert!(
        r.json["titulos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == json!(900003)),
        "{}",
        r.body
    );
    app.stop().await;
}
