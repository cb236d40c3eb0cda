use crate::common::*;

#[tokio::test]
async fn consultacliente_by_document_answers_both_contracts() {
    let app = spawn().await;
    let r = app
        .call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    let ids: Vec<i64> = r.json["contratos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contratoId"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1001, 1002]);
    app.stop().await;
}
