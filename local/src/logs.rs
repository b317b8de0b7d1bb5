//! Function output into the function's log group in moto, as Lambda puts it:
//! one stream per execution environment, each line an event stamped when it
//! was written.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use tokio::sync::mpsc;

/// One line to ship.
struct Line {
    group: String,
    text: String,
    millis: i64,
}

/// A handle that queues lines; a background task writes them in batches.
#[derive(Clone)]
pub struct Shipper {
    queue: mpsc::UnboundedSender<Line>,
}

impl Shipper {
    /// Starts the task that writes to `logs` under a stream named like Lambda's
    /// (`2026/12/01/[$LATEST]<hex>`). Call inside a tokio runtime.
    pub fn start(logs: aws_sdk_cloudwatchlogs::Client) -> Self {
        let (queue, mut lines) = mpsc::unbounded_channel::<Line>();
        let stream = format!(
            "{}/[$LATEST]{}",
            jiff::Timestamp::now().strftime("%Y/%m/%d"),
            hex::encode(rand::random::<[u8; 16]>())
        );
        tokio::spawn(async move {
            let mut created: Vec<String> = Vec::new();
            while let Some(first) = lines.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = lines.try_recv() {
                    batch.push(more);
                }
                let mut groups: Vec<String> = batch.iter().map(|l| l.group.clone()).collect();
                groups.dedup();
                for group in groups {
                    if !created.contains(&group) {
                        // An existing stream answers ResourceAlreadyExists, which is fine.
                        let _ = logs
                            .create_log_stream()
                            .log_group_name(&group)
                            .log_stream_name(&stream)
                            .send()
                            .await;
                        created.push(group.clone());
                    }
                    let events: Vec<InputLogEvent> = batch
                        .iter()
                        .filter(|line| line.group == group)
                        .filter_map(|line| {
                            InputLogEvent::builder()
                                .message(line.text.clone())
                                .timestamp(line.millis)
                                .build()
                                .ok()
                        })
                        .collect();
                    if let Err(err) = logs
                        .put_log_events()
                        .log_group_name(&group)
                        .log_stream_name(&stream)
                        .set_log_events(Some(events))
                        .send()
                        .await
                    {
                        eprintln!(
                            "cannot write to log group {group} in moto: {}",
                            aws_smithy_types::error::display::DisplayErrorContext(err)
                        );
                    }
                }
            }
        });
        Self { queue }
    }

    /// Queues `text` for `group`, stamped now.
    pub fn send(&self, group: &str, text: &str) {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        // The task ends only with the runtime; a line after that has nowhere to go.
        let _ = self.queue.send(Line {
            group: group.to_owned(),
            text: text.to_owned(),
            millis,
        });
    }
}
