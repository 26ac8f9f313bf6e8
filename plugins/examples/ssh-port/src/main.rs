//! Example holdfast plugin written with the Rust SDK: reports images whose config exposes
//! the SSH port (`22/tcp`, or the port given by the `port` parameter).

use std::io;

use holdfast_plugin::{Command, Manifest, ParamSpec, ParamType, PluginFinding};

fn main() {
    let mut manifest = Manifest::new(
        "ssh-port",
        env!("CARGO_PKG_VERSION"),
        &[Command::ScanImage, Command::ScanContainer],
    );
    manifest.description = "Reports images whose config exposes the SSH port.".into();
    manifest.author = "holdfast examples".into();
    manifest.kinds = vec!["misconfiguration".into()];
    manifest.params.push(ParamSpec {
        name: "port".into(),
        kind: ParamType::Integer,
        default: Some(22.into()),
        help: "The TCP port reported when the image exposes it.".into(),
    });
    holdfast_plugin::run(manifest, |request, out| {
        let port = request.param("port").unwrap_or_else(|| "22".into());
        let port: u16 = port.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("port `{port}` is not a TCP port"),
            )
        })?;
        let wanted = format!("{port}/tcp");
        if request.exposed_ports().contains(&wanted) {
            let finding =
                PluginFinding::new("SSH-PORT-EXPOSED", "MEDIUM", "Image exposes the SSH port")
                    .description(format!(
                "The image config exposes {wanted} (ExposedPorts), the port of an SSH server."
            ))
                    .remediation(
                        "Do not run an SSH server in a container; use docker exec or kubectl exec",
                    );
            out.finding(finding)?;
        }
        Ok(())
    })
}
