//! The part of containerd's gRPC API that holdfast reads, over its unix socket.
//!
//! The messages are declared here with prost's derive, field numbers as in containerd's
//! `api/` protos (v1 services, stable since containerd 1.0); fields holdfast does not read
//! are left out, and protobuf decoding skips them. Every call carries the namespace in the
//! `containerd-namespace` header, as containerd's own clients do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hyper_util::rt::TokioIo;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Code, Status};

use crate::SourceError;

/// Bytes a layer stream may have in flight before it waits for the reader.
const STREAM_WINDOW: u32 = 8 << 20;
/// The same for the whole connection, which the layers read in parallel share.
const CONNECTION_WINDOW: u32 = 32 << 20;

/// A content descriptor (`containerd.types.Descriptor`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Descriptor {
    #[prost(string, tag = "1")]
    pub media_type: String,
    #[prost(string, tag = "2")]
    pub digest: String,
    #[prost(int64, tag = "3")]
    pub size: i64,
    #[prost(map = "string, string", tag = "5")]
    pub annotations: HashMap<String, String>,
}

/// `containerd.services.images.v1.Image`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Image {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(map = "string, string", tag = "2")]
    pub labels: HashMap<String, String>,
    #[prost(message, optional, tag = "3")]
    pub target: Option<Descriptor>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetImageRequest {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetImageResponse {
    #[prost(message, optional, tag = "1")]
    image: Option<Image>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListRequest {
    #[prost(string, repeated, tag = "1")]
    filters: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ReadContentRequest {
    #[prost(string, tag = "1")]
    digest: String,
    #[prost(int64, tag = "2")]
    offset: i64,
    /// 0 reads to the end.
    #[prost(int64, tag = "3")]
    size: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ReadContentResponse {
    #[prost(int64, tag = "1")]
    offset: i64,
    #[prost(bytes = "bytes", tag = "2")]
    data: Bytes,
}

/// `google.protobuf.Any`: the container's OCI runtime spec travels as one.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoAny {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `containerd.services.containers.v1.Container`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Container {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(map = "string, string", tag = "2")]
    pub labels: HashMap<String, String>,
    #[prost(string, tag = "3")]
    pub image: String,
    #[prost(message, optional, tag = "5")]
    pub spec: Option<ProtoAny>,
    #[prost(string, tag = "6")]
    pub snapshotter: String,
    #[prost(string, tag = "7")]
    pub snapshot_key: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetContainerRequest {
    #[prost(string, tag = "1")]
    id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetContainerResponse {
    #[prost(message, optional, tag = "1")]
    container: Option<Container>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListContainersResponse {
    #[prost(message, repeated, tag = "1")]
    containers: Vec<Container>,
}

/// A mount (`containerd.types.Mount`), as the snapshotter describes a snapshot.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Mount {
    #[prost(string, tag = "1")]
    pub kind: String,
    #[prost(string, tag = "2")]
    pub source: String,
    #[prost(string, tag = "3")]
    pub target: String,
    #[prost(string, repeated, tag = "4")]
    pub options: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct MountsRequest {
    #[prost(string, tag = "1")]
    snapshotter: String,
    #[prost(string, tag = "2")]
    key: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct MountsResponse {
    #[prost(message, repeated, tag = "1")]
    mounts: Vec<Mount>,
}

/// A task's process (`containerd.v1.types.Process`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Process {
    #[prost(string, tag = "1")]
    pub container_id: String,
    #[prost(uint32, tag = "3")]
    pub pid: u32,
    /// `containerd.v1.types.Status`: 1 created, 2 running, 3 stopped, 4 paused, 5 pausing.
    #[prost(int32, tag = "4")]
    pub status: i32,
}

impl Process {
    /// The status as containerd names it.
    pub fn status_name(&self) -> &'static str {
        match self.status {
            1 => "created",
            2 => "running",
            3 => "stopped",
            4 => "paused",
            5 => "pausing",
            _ => "unknown",
        }
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetTaskRequest {
    #[prost(string, tag = "1")]
    container_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GetTaskResponse {
    #[prost(message, optional, tag = "1")]
    process: Option<Process>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListPidsResponse {
    #[prost(message, repeated, tag = "1")]
    processes: Vec<ProcessInfo>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProcessInfo {
    #[prost(uint32, tag = "1")]
    pid: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Plugin {
    #[prost(string, tag = "1")]
    kind: String,
    #[prost(map = "string, string", tag = "5")]
    exports: HashMap<String, String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PluginsResponse {
    #[prost(message, repeated, tag = "1")]
    plugins: Vec<Plugin>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct VersionResponse {
    #[prost(string, tag = "1")]
    version: String,
}

/// A connection to one containerd, in one namespace.
#[derive(Clone)]
pub struct Client {
    channel: Channel,
    namespace: String,
}

/// Whether a call failed because the thing asked for does not exist.
pub fn is_not_found(e: &Status) -> bool {
    e.code() == Code::NotFound
}

impl Client {
    /// Connects to the socket at `address` and checks that containerd answers.
    pub async fn connect(address: &Path, namespace: &str) -> Result<Self, SourceError> {
        let socket = address.to_path_buf();
        let unreachable = |e: &dyn std::fmt::Display| {
            SourceError::Containerd(format!(
                "cannot reach containerd at `{}` (is it running? --containerd-address or CONTAINERD_ADDRESS names another socket): {e}",
                address.display()
            ))
        };
        // HTTP/2's default 64 KiB windows make a layer stream wait for a window update
        // every 64 KiB; layers are hundreds of MiB.
        let channel = Endpoint::from_static("http://containerd.sock")
            .initial_stream_window_size(Some(STREAM_WINDOW))
            .initial_connection_window_size(Some(CONNECTION_WINDOW))
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let socket = socket.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(socket).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(stream))
                }
            }))
            .await
            .map_err(|e| unreachable(&e))?;
        let client = Client {
            channel,
            namespace: namespace.to_string(),
        };
        client
            .unary::<(), VersionResponse>("/containerd.services.version.v1.Version/Version", ())
            .await
            .map_err(|e| unreachable(&e))?;
        Ok(client)
    }

    /// The same connection, in another namespace.
    pub fn in_namespace(&self, namespace: &str) -> Client {
        Client {
            namespace: namespace.to_string(),
            ..self.clone()
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Ok(ns) = self.namespace.parse() {
            request.metadata_mut().insert("containerd-namespace", ns);
        }
        request
    }

    async fn unary<Req, Resp>(&self, path: &'static str, message: Req) -> Result<Resp, Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
        let response = grpc
            .unary(
                self.request(message),
                PathAndQuery::from_static(path),
                codec,
            )
            .await?;
        Ok(response.into_inner())
    }

    /// The image named `name` (`docker.io/library/debian:12`, as `ctr images ls` shows).
    pub async fn image(&self, name: &str) -> Result<Image, Status> {
        let response: GetImageResponse = self
            .unary(
                "/containerd.services.images.v1.Images/Get",
                GetImageRequest { name: name.into() },
            )
            .await?;
        response
            .image
            .ok_or_else(|| Status::not_found(format!("image {name}")))
    }

    /// A blob of the content store as a stream of chunks.
    pub async fn read(
        &self,
        digest: &str,
    ) -> Result<impl Stream<Item = Result<Bytes, Status>> + Unpin + use<>, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let codec = tonic_prost::ProstCodec::<ReadContentRequest, ReadContentResponse>::default();
        let request = self.request(ReadContentRequest {
            digest: digest.into(),
            offset: 0,
            size: 0,
        });
        let stream = grpc
            .server_streaming(
                request,
                PathAndQuery::from_static("/containerd.services.content.v1.Content/Read"),
                codec,
            )
            .await?
            .into_inner();
        Ok(stream.map(|chunk| chunk.map(|c| c.data)))
    }

    /// A small blob (a manifest, an index, a config) read whole, refused past `max` bytes.
    pub async fn read_small(&self, digest: &str, max: u64) -> Result<Vec<u8>, Status> {
        let mut stream = self.read(digest).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
            if out.len() as u64 > max {
                return Err(Status::out_of_range(format!(
                    "{digest} is larger than {max} bytes"
                )));
            }
        }
        Ok(out)
    }

    /// Where the content store keeps its blobs on containerd's host, as its plugin
    /// exports it (`root`); `None` when containerd does not say.
    pub async fn content_root(&self) -> Result<Option<PathBuf>, Status> {
        let response: PluginsResponse = self
            .unary(
                "/containerd.services.introspection.v1.Introspection/Plugins",
                ListRequest {
                    filters: vec!["type==io.containerd.content.v1".into()],
                },
            )
            .await?;
        Ok(response
            .plugins
            .into_iter()
            .filter(|p| p.kind == "io.containerd.content.v1")
            .find_map(|p| p.exports.get("root").map(PathBuf::from)))
    }

    /// The container with this id.
    pub async fn container(&self, id: &str) -> Result<Container, Status> {
        let response: GetContainerResponse = self
            .unary(
                "/containerd.services.containers.v1.Containers/Get",
                GetContainerRequest { id: id.into() },
            )
            .await?;
        response
            .container
            .ok_or_else(|| Status::not_found(format!("container {id}")))
    }

    /// Every container of the namespace.
    pub async fn containers(&self) -> Result<Vec<Container>, Status> {
        let response: ListContainersResponse = self
            .unary(
                "/containerd.services.containers.v1.Containers/List",
                ListRequest::default(),
            )
            .await?;
        Ok(response.containers)
    }

    /// The container's task; `None` when it has none (created, never started).
    pub async fn task(&self, container_id: &str) -> Result<Option<Process>, Status> {
        let response: Result<GetTaskResponse, Status> = self
            .unary(
                "/containerd.services.tasks.v1.Tasks/Get",
                GetTaskRequest {
                    container_id: container_id.into(),
                },
            )
            .await;
        match response {
            Ok(r) => Ok(r.process),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The host PIDs of the task's processes.
    pub async fn pids(&self, container_id: &str) -> Result<Vec<u32>, Status> {
        let response: ListPidsResponse = self
            .unary(
                "/containerd.services.tasks.v1.Tasks/ListPids",
                GetTaskRequest {
                    container_id: container_id.into(),
                },
            )
            .await?;
        Ok(response.processes.into_iter().map(|p| p.pid).collect())
    }

    /// How the snapshotter would mount the snapshot `key`.
    pub async fn mounts(&self, snapshotter: &str, key: &str) -> Result<Vec<Mount>, Status> {
        let response: MountsResponse = self
            .unary(
                "/containerd.services.snapshots.v1.Snapshots/Mounts",
                MountsRequest {
                    snapshotter: snapshotter.into(),
                    key: key.into(),
                },
            )
            .await?;
        Ok(response.mounts)
    }
}
