//! A configurable HTTP SMS gateway: method, URL, headers and body are templates with
//! `{{ numero }}` and `{{ mensagem }}`, so that any provider's API can be called.

use std::time::Duration;

use minijinja::{Environment, context};
use reqwest::Method;

use crate::settings::SmsSettings;

pub struct SmsGateway {
    client: reqwest::Client,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
    content_type: String,
}

impl SmsGateway {
    pub fn from_settings(s: &SmsSettings, timeout: Duration) -> anyhow::Result<SmsGateway> {
        let url = s.url.clone().unwrap_or_default();
        let method = Method::from_bytes(s.metodo.to_ascii_uppercase().as_bytes())
            .map_err(|_| anyhow::anyhow!("sms.metodo inválido: {}", s.metodo))?;
        let env = Environment::new();
        env.template_from_str(&url)
            .map_err(|e| anyhow::anyhow!("sms.url inválida: {e}"))?;
        env.template_from_str(&s.corpo)
            .map_err(|e| anyhow::anyhow!("sms.corpo inválido: {e}"))?;
        Ok(SmsGateway {
            client: reqwest::Client::builder().timeout(timeout).build()?,
            method,
            url,
            headers: s.cabecalhos.clone().into_iter().collect(),
            body: s.corpo.clone(),
            content_type: s.content_type.clone(),
        })
    }

    /// The gateway's host, for logs (never the full URL: it may carry a key).
    pub fn host(&self) -> String {
        reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "(url com template)".into())
    }

    pub async fn send(&self, number: &str, message: &str) -> Result<(), String> {
        let env = Environment::new();
        let ctx = context! { numero => number, mensagem => message };
        let render = |t: &str| {
            env.render_str(t, &ctx)
                .map_err(|e| format!("template do gateway: {e}"))
        };
        let url = render(&self.url)?;
        let mut request = self.client.request(self.method.clone(), url.trim());
        for (k, v) in &self.headers {
            request = request.header(k, render(v)?);
        }
        if !self.body.is_empty() {
            request = request
                .header(reqwest::header::CONTENT_TYPE, &self.content_type)
                .body(render(&self.body)?);
        }
        let response = request
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("gateway respondeu {}", response.status()))
        }
    }
}
