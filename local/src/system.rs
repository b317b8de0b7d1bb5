//! The running system: the stack deployed in moto, read back from moto, and
//! served on loopback by the hosted-UI stand-in, the API Gateway front and
//! one process per function, restarted on new code after a hotswap
//! ([`Running::refresh`]).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_types::error::display::DisplayErrorContext;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api_gateway::{self, Front, RestApi};
use crate::function::{self, Function, LineSink, Spec};
use crate::hosted_ui::{AppClient, HostedUi, Mail};
use crate::logs::Shipper;
use crate::moto::{Moto, REGION};
use crate::origins::OriginMap;
use crate::{Clock, system_clock};
use infra::Resource;

/// Why the system could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to moto failed.
    #[error("cannot {what}: {cause}")]
    Moto {
        /// What was asked.
        what: String,
        /// The whole cause chain.
        cause: String,
    },
    /// The deployed stack is not what local mode can serve.
    #[error("{0}")]
    Stack(String),
    /// A file or process could not be made.
    #[error("cannot {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

fn moto_err<E: std::error::Error>(what: impl Into<String>) -> impl FnOnce(E) -> Error {
    let what = what.into();
    move |err| Error::Moto {
        what,
        cause: DisplayErrorContext(err).to_string(),
    }
}

/// What `start` needs besides moto.
pub struct Options {
    /// The deployed stack's name.
    pub stack_name: String,
    /// The API stage to serve.
    pub stage: String,
    /// Where the API Gateway front listens (bound already, so a port in use fails early).
    pub api_listener: std::net::TcpListener,
    /// Where the hosted-UI stand-in listens.
    pub hosted_ui_listener: std::net::TcpListener,
    /// The zips that were deployed; each function runs the one whose SHA-256 it reports.
    pub zips: Vec<Vec<u8>>,
    /// A folder for the extracted `bootstrap` binaries.
    pub work_dir: PathBuf,
    /// Where function output lines and mails are shown (the terminal).
    pub show: Arc<dyn Fn(&str) + Send + Sync>,
}

/// The system, serving until dropped.
pub struct Running {
    /// The stack's outputs with their URLs pointing at the local servers, in the stack's order.
    pub outputs: Vec<(String, String)>,
    /// The API Gateway front's origin (`http://127.0.0.1:PORT`).
    pub api_origin: String,
    /// The hosted-UI stand-in's origin.
    pub hosted_ui_origin: String,
    servers: Vec<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    functions: Arc<Functions>,
    reader: Reader,
}

impl Running {
    /// Reads each function back from moto and restarts, between two
    /// invocations, the ones whose code or configuration changed (after a
    /// hotswap into moto): the new process runs the `bootstrap` of the zip
    /// among `zips` whose SHA-256 is the function's new `CodeSha256`.
    /// Returns the names of the functions restarted.
    pub async fn refresh(&self, zips: &[Vec<u8>]) -> Result<Vec<String>, Error> {
        let mut restarted = Vec::new();
        let mut names: Vec<&String> = self.functions.0.keys().collect();
        names.sort();
        for name in names {
            let function = &self.functions.0[name];
            let running = function.spec();
            let spec = self.reader.spec(name, zips, Some(&running)).await?;
            if spec != running {
                function.replace(spec).await.map_err(|source| Error::Io {
                    what: format!("restart function {name}"),
                    source,
                })?;
                restarted.push(name.clone());
            }
        }
        Ok(restarted)
    }

    /// Stops the servers and the function processes.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for server in self.servers {
            let _ = server.await;
        }
    }
}

/// The deployed functions by name, as the front invokes them.
struct Functions(HashMap<String, Arc<Function>>);

impl api_gateway::Invoke for Functions {
    fn invoke(
        &self,
        function: &str,
        event: Value,
    ) -> Pin<Box<dyn Future<Output = Result<Value, api_gateway::InvokeError>> + Send + '_>> {
        let found = self.0.get(function).cloned();
        let name = function.to_owned();
        Box::pin(async move {
            let Some(function) = found else {
                return Err(api_gateway::InvokeError::Unavailable(format!(
                    "no function {name} in the stack"
                )));
            };
            function.invoke(event).await
        })
    }
}

/// Reads the deployed stack back from moto and serves it.
pub async fn start(moto: &Moto, options: Options) -> Result<Running, Error> {
    let sdk = moto.sdk_config().await;
    let clock: Clock = system_clock();
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let stack = cfn
        .describe_stacks()
        .stack_name(&options.stack_name)
        .send()
        .await
        .map_err(moto_err(format!("describe stack {}", options.stack_name)))?
        .stacks
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or_else(|| Error::Stack(format!("stack {} is not in moto", options.stack_name)))?;
    let mut functions = Vec::new();
    let mut rest_api = None;
    let mut pager = cfn
        .list_stack_resources()
        .stack_name(&options.stack_name)
        .into_paginator()
        .items()
        .send();
    while let Some(resource) = pager.next().await {
        let resource = resource.map_err(moto_err("list the stack's resources"))?;
        let (Some(physical), Some(kind)) =
            (resource.physical_resource_id(), resource.resource_type())
        else {
            continue;
        };
        if kind == <infra::lambda::Function as Resource>::TYPE {
            functions.push(physical.to_owned());
        } else if kind == <infra::apigateway::RestApi as Resource>::TYPE {
            rest_api = Some(physical.to_owned());
        }
    }
    let rest_api =
        rest_api.ok_or_else(|| Error::Stack("the stack has no REST API to serve".to_owned()))?;
    let output = |key: &str| {
        stack
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(key))
            .and_then(|o| o.output_value())
            .map(str::to_owned)
    };
    let parameter = |key: &str| {
        stack
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some(key))
            .and_then(|p| p.parameter_value())
            .map(str::to_owned)
    };
    let pool_id = output(infra::stack::outputs::USER_POOL_ID)
        .ok_or_else(|| Error::Stack("the stack has no UserPoolId output".to_owned()))?;
    let client_id = output(infra::stack::outputs::CLIENT_ID)
        .ok_or_else(|| Error::Stack("the stack has no ClientId output".to_owned()))?;
    let prefix = parameter(infra::stack::params::DOMAIN_PREFIX)
        .ok_or_else(|| Error::Stack("the stack has no DomainPrefix parameter".to_owned()))?;

    let api_origin = origin_of(&options.api_listener)?;
    let hosted_ui_origin = origin_of(&options.hosted_ui_listener)?;
    let mut origins = OriginMap::default();
    origins.add(
        format!("https://{rest_api}.execute-api.{REGION}.amazonaws.com"),
        &api_origin,
    );
    origins.add(
        format!("https://{prefix}.auth.{REGION}.amazoncognito.com"),
        &hosted_ui_origin,
    );

    let logs = Shipper::start(aws_sdk_cloudwatchlogs::Client::new(&sdk));
    let reader = Reader {
        lambda: aws_sdk_lambda::Client::new(&sdk),
        origins: origins.clone(),
        work_dir: options.work_dir.clone(),
        aws_env: moto
            .aws_env()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    };
    let mut by_name = HashMap::new();
    let mut groups = HashMap::new();
    let mut specs = Vec::new();
    for name in &functions {
        let spec = reader.spec(name, &options.zips, None).await?;
        groups.insert(name.clone(), spec.log_group.clone());
        specs.push(spec);
    }
    let show = Arc::clone(&options.show);
    let sink: LineSink = Arc::new(move |name: &str, line: &str| {
        show(&format!("[{name}] {line}"));
        if let Some(group) = groups.get(name) {
            logs.send(group, line);
        }
    });
    for spec in specs {
        let name = spec.name.clone();
        let running = Function::start(spec, Arc::clone(&sink)).map_err(|source| Error::Io {
            what: format!("start function {name}"),
            source,
        })?;
        by_name.insert(name, Arc::new(running));
    }
    let functions = Arc::new(Functions(by_name));

    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let client = AppClient::describe(&cognito, &pool_id, &client_id)
        .await
        .map_err(|err| Error::Stack(format!("cannot read the app client: {err}")))?;
    let show = Arc::clone(&options.show);
    let on_mail = Box::new(move |mail: &Mail| {
        show(&format!(
            "[mail] to {}: your confirmation code is {}",
            mail.to, mail.code
        ));
    });
    let hosted_ui = Arc::new(HostedUi::new(
        client,
        cognito,
        origins.clone(),
        Arc::clone(&clock),
        on_mail,
    ));

    let apigateway = aws_sdk_apigateway::Client::new(&sdk);
    let api = RestApi::discover(&apigateway, &rest_api, &options.stage)
        .await
        .map_err(|err| Error::Stack(format!("cannot read REST API {rest_api}: {err}")))?;
    let invoker: Arc<dyn api_gateway::Invoke> = Arc::clone(&functions) as _;
    let front = Arc::new(
        Front::new(
            api,
            moto.endpoint(),
            REGION,
            ACCOUNT_ID,
            invoker,
            Arc::clone(&clock),
        )
        .await
        .map_err(|err| Error::Stack(format!("cannot set up the API front: {err}")))?,
    );

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let servers = vec![
        serve(options.api_listener, front.router(), stopped.clone())?,
        serve(options.hosted_ui_listener, hosted_ui.router(), stopped)?,
    ];
    let outputs = stack
        .outputs()
        .iter()
        .filter_map(|o| {
            Some((
                o.output_key()?.to_owned(),
                origins.to_local(o.output_value()?),
            ))
        })
        .collect();
    Ok(Running {
        outputs,
        api_origin,
        hosted_ui_origin,
        servers,
        stop,
        functions,
        reader,
    })
}

/// The account moto reports for its dummy credentials.
pub const ACCOUNT_ID: &str = "123456789012";

fn origin_of(listener: &std::net::TcpListener) -> Result<String, Error> {
    let addr = listener.local_addr().map_err(|source| Error::Io {
        what: "read a listener's address".to_owned(),
        source,
    })?;
    Ok(format!("http://{addr}"))
}

/// How to turn what moto's Lambda says of a function into how to run it here.
struct Reader {
    lambda: aws_sdk_lambda::Client,
    origins: OriginMap,
    /// Each function's `bootstrap` is extracted into `<work_dir>/<name>/`.
    work_dir: PathBuf,
    /// The way to moto.
    aws_env: Vec<(String, String)>,
}

impl Reader {
    /// What moto's Lambda says of `name`, turned into how to run it here:
    /// the deployed environment with only its origins rewritten (the
    /// redirect URI stays exact, as the app client registered it), plus
    /// the way to moto. The `bootstrap` is `running`'s while the code is
    /// the same, else extracted from the zip whose SHA-256 is the code's.
    async fn spec(
        &self,
        name: &str,
        zips: &[Vec<u8>],
        running: Option<&Spec>,
    ) -> Result<Spec, Error> {
        let found = self
            .lambda
            .get_function()
            .function_name(name)
            .send()
            .await
            .map_err(moto_err(format!("read function {name}")))?;
        let config = found
            .configuration()
            .ok_or_else(|| Error::Stack(format!("function {name} has no configuration")))?;
        let deployed_sha = config.code_sha256().unwrap_or_default();
        let bootstrap = match running {
            Some(running) if running.code_sha256 == deployed_sha => running.bootstrap.clone(),
            _ => {
                let zip = zips
                    .iter()
                    .find(|zip| {
                        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
                            == deployed_sha
                    })
                    .ok_or_else(|| {
                        Error::Stack(format!(
                            "function {name} runs code (CodeSha256 {deployed_sha}) that is none of the zips just built"
                        ))
                    })?;
                function::extract_bootstrap(zip, &self.work_dir.join(name)).map_err(|source| {
                    Error::Io {
                        what: format!("extract the bootstrap of {name}"),
                        source,
                    }
                })?
            }
        };
        let origins = &self.origins;
        let mut env: Vec<(String, String)> = config
            .environment()
            .and_then(|e| e.variables())
            .map(|vars| {
                vars.iter()
                    .map(|(key, value)| {
                        let value = if key == env_contract::auth::REDIRECT_URI {
                            value.clone()
                        } else {
                            origins.to_local(value)
                        };
                        (key.clone(), value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        env.sort();
        env.extend(self.aws_env.iter().cloned());
        let log_group = config
            .logging_config()
            .and_then(|l| l.log_group())
            .map_or_else(|| format!("/aws/lambda/{name}"), str::to_owned);
        Ok(Spec {
            name: name.to_owned(),
            code_sha256: deployed_sha.to_owned(),
            bootstrap,
            env,
            log_group,
            timeout: Duration::from_secs(u64::try_from(config.timeout().unwrap_or(3)).unwrap_or(3)),
            memory_mb: config.memory_size().unwrap_or(128),
        })
    }
}

fn serve(
    listener: std::net::TcpListener,
    router: axum::Router,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    let io = |source| Error::Io {
        what: "serve on a loopback port".to_owned(),
        source,
    };
    listener.set_nonblocking(true).map_err(io)?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(io)?;
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        // With the peer's address, the front fills `requestContext.identity.sourceIp`.
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(err) = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await
        {
            eprintln!("a local server stopped: {err}");
        }
    }))
}
