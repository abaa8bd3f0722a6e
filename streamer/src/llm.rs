//! The OpenAI-compatible chat completions call that turns a prompt into a session summary.

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use crate::http::{describe_transport_error, snippet};
use crate::secret::Secret;

/// The OpenAI-compatible endpoint used for summaries.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub base_url: Url,
    pub api_key: Secret,
    pub model: String,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("LLM call failed: {0}")]
pub struct LlmError(String);

pub struct LlmClient {
    http: reqwest::Client,
    config: LlmConfig,
}

impl LlmClient {
    pub fn new(http: reqwest::Client, config: LlmConfig) -> Self {
        Self { http, config }
    }

    /// Asks for a completion (temperature 0.3, at most 256 tokens). An empty answer is an error:
    /// an empty summary must never be written.
    pub async fn complete(&self, prompt: &str) -> Result<String, LlmError> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.as_str().trim_end_matches('/')
        );
        #[derive(serde::Serialize)]
        struct Request<'a> {
            model: &'a str,
            messages: [Prompt<'a>; 1],
            temperature: f32,
            max_tokens: u32,
        }
        #[derive(serde::Serialize)]
        struct Prompt<'a> {
            role: &'a str,
            content: &'a str,
        }
        let body = Request {
            model: &self.config.model,
            messages: [Prompt {
                role: "user",
                content: prompt,
            }],
            temperature: 0.3,
            max_tokens: 256,
        };
        let response = self
            .http
            .post(url)
            .timeout(self.config.timeout)
            .bearer_auth(self.config.api_key.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| LlmError(describe_transport_error(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| LlmError(describe_transport_error(&e)))?;
        if !status.is_success() {
            return Err(LlmError(format!("HTTP {status}: {}", snippet(&text))));
        }
        #[derive(Deserialize)]
        struct Completion {
            choices: Vec<Choice>,
        }
        #[derive(Deserialize)]
        struct Choice {
            message: Message,
        }
        #[derive(Deserialize)]
        struct Message {
            content: Option<String>,
        }
        let content = serde_json::from_str::<Completion>(&text)
            .ok()
            .and_then(|c| c.choices.into_iter().next()?.message.content)
            .ok_or_else(|| {
                LlmError(format!(
                    "no choices[0].message.content in the answer: {}",
                    snippet(&text)
                ))
            })?;
        let content = content.trim();
        if content.is_empty() {
            return Err(LlmError("the model returned an empty summary".to_owned()));
        }
        Ok(content.to_owned())
    }
}
