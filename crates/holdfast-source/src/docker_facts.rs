//! What the Docker Engine API says about the daemon, its containers and images, as JSON
//! documents for the compliance checks (`docs/checks.md`): `/info`, `/version`,
//! `/networks`, and per container its inspect, `top` and execs, per image its inspect and
//! history. Read once here; the checks never talk to the daemon.

use crate::daemon::{connect, io_runtime, EngineSocket};
use crate::SourceError;
use bollard::query_parameters::{
    InspectContainerOptions, ListImagesOptionsBuilder, ListNetworksOptions, TopOptionsBuilder,
};
use serde_json::{json, Value};

/// Everything the Engine API answered; a part that failed is `null` with its error in
/// `errors`, and the rest is still read.
#[derive(Debug, Default)]
pub struct DockerFacts {
    /// `/info`.
    pub info: Value,
    /// `/version`.
    pub version: Value,
    /// `/networks`: name, driver, scope and options of each network.
    pub networks: Value,
    /// One `{id, name, image, running, inspect, processes, execs}` per container.
    pub containers: Vec<Value>,
    /// One `{id, tags, inspect, history}` per image.
    pub images: Vec<Value>,
    /// What could not be read.
    pub errors: Vec<String>,
}

/// Most containers and images read (each costs API calls).
pub const MAX_OBJECTS: usize = 5_000;

/// Reads the daemon behind `socket`. Fails only when the daemon cannot be reached at all.
pub fn read(socket: &EngineSocket) -> Result<DockerFacts, SourceError> {
    let runtime = io_runtime()?;
    let docker = connect(&runtime, socket)?;
    let mut facts = DockerFacts::default();
    let note = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    facts.info = match runtime.block_on(docker.info()) {
        Ok(i) => to_json(&i),
        Err(e) => {
            facts.errors.push(note("info", &e));
            Value::Null
        }
    };
    facts.version = match runtime.block_on(docker.version()) {
        Ok(v) => to_json(&v),
        Err(e) => {
            facts.errors.push(note("version", &e));
            Value::Null
        }
    };
    facts.networks = match runtime.block_on(docker.list_networks(None::<ListNetworksOptions>)) {
        Ok(list) => Value::Array(
            list.iter()
                .map(|n| {
                    json!({
                        "name": n.name, "driver": n.driver, "scope": n.scope,
                        "options": n.options, "internal": n.internal,
                    })
                })
                .collect(),
        ),
        Err(e) => {
            facts.errors.push(note("networks", &e));
            Value::Null
        }
    };
    let containers = match crate::container::list_containers(socket) {
        Ok(list) => list,
        Err(e) => {
            facts.errors.push(note("containers", &e));
            Vec::new()
        }
    };
    for crate::container::ContainerRef { id, .. } in containers.into_iter().take(MAX_OBJECTS) {
        // `None`: gone between the listing and the inspect.
        if let Some(doc) = container_document(&runtime, &docker, &id, &mut facts.errors) {
            facts.containers.push(doc);
        }
    }
    let images = match runtime
        .block_on(docker.list_images(Some(ListImagesOptionsBuilder::new().all(false).build())))
    {
        Ok(list) => list,
        Err(e) => {
            facts.errors.push(note("images", &e));
            Vec::new()
        }
    };
    for image in images.into_iter().take(MAX_OBJECTS) {
        let Ok(inspect) = runtime.block_on(docker.inspect_image(&image.id)) else {
            continue;
        };
        let history = match runtime.block_on(docker.image_history(&image.id)) {
            Ok(h) => h
                .iter()
                .map(|l| {
                    json!({
                        "created_by": l.created_by,
                        "empty_layer": l.size == 0,
                        "size": l.size,
                    })
                })
                .collect(),
            Err(e) => {
                facts
                    .errors
                    .push(note(&format!("image {} history", image.id), &e));
                Vec::new()
            }
        };
        facts.images.push(json!({
            "id": image.id,
            "tags": image.repo_tags,
            "inspect": to_json(&inspect),
            "history": history,
        }));
    }
    Ok(facts)
}

/// Reads one container, as [`read`] reads each: the daemon's `/info` and `/version`, and
/// the container's document in `containers` (its inspect, processes and execs). For the
/// misconfiguration scanner of `scan container`, which judges one container.
pub fn read_container(socket: &EngineSocket, id: &str) -> Result<DockerFacts, SourceError> {
    let runtime = io_runtime()?;
    let docker = connect(&runtime, socket)?;
    let mut facts = DockerFacts {
        info: runtime
            .block_on(docker.info())
            .map(|i| to_json(&i))
            .unwrap_or(Value::Null),
        version: runtime
            .block_on(docker.version())
            .map(|v| to_json(&v))
            .unwrap_or(Value::Null),
        ..Default::default()
    };
    match container_document(&runtime, &docker, id, &mut facts.errors) {
        Some(doc) => facts.containers.push(doc),
        None => return Err(socket.error(format!("container {id} could not be inspected"))),
    }
    Ok(facts)
}

/// One container's `{id, name, image, running, inspect, processes, execs}`; `None` when
/// it cannot be inspected (gone). What else fails is added to `errors`.
fn container_document(
    runtime: &tokio::runtime::Runtime,
    docker: &bollard::Docker,
    id: &str,
    errors: &mut Vec<String>,
) -> Option<Value> {
    let inspect =
        match runtime.block_on(docker.inspect_container(id, None::<InspectContainerOptions>)) {
            Ok(i) => i,
            // Gone between the listing and the inspect.
            Err(_) => return None,
        };
    let running = inspect
        .state
        .as_ref()
        .and_then(|s| s.running)
        .unwrap_or(false);
    // `null` when they could not be listed, so a check can tell "none" from "unknown";
    // read as `scan container` reads them.
    let processes: Option<Vec<String>> = if running {
        let top = runtime.block_on(
            docker.top_processes(id, Some(TopOptionsBuilder::new().ps_args("-ef").build())),
        );
        match top {
            Ok(top) => Some(
                crate::container::processes_from_top(top.titles, top.processes)
                    .into_iter()
                    .map(|p| p.command)
                    .collect(),
            ),
            Err(e) => {
                errors.push(format!("container {id} processes: {e}"));
                None
            }
        }
    } else {
        Some(Vec::new())
    };
    let mut execs = Vec::new();
    for exec in inspect
        .exec_ids
        .clone()
        .unwrap_or_default()
        .iter()
        .take(100)
    {
        if let Ok(e) = runtime.block_on(docker.inspect_exec(exec)) {
            let config = e.process_config.unwrap_or_default();
            execs.push(json!({
                "privileged": config.privileged.unwrap_or(false),
                "user": config.user.unwrap_or_default(),
                "cmd": std::iter::once(config.entrypoint.unwrap_or_default())
                    .chain(config.arguments.unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" "),
            }));
        }
    }
    let name = inspect
        .name
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let image = inspect
        .config
        .as_ref()
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    Some(json!({
        "id": id,
        "name": name,
        "image": image,
        "running": running,
        "inspect": to_json(&inspect),
        "processes": processes,
        "execs": execs,
    }))
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
