//! The agent's end of the control channel, and the sync markers it writes into the terminal.

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixStream;

use pyo3::Python;

use crate::protocol::{self, AgentMessage, ChannelError, Request};

pub struct Channel {
    /// `None` in a checkpoint: it has let go of the channel of the process it was copied from.
    stream: Option<UnixStream>,
    /// A private duplicate of the program's terminal, for sync markers: it stays valid even if
    /// the program closes or redirects its own stdout.
    sync: Option<File>,
    counter: u64,
}

impl Channel {
    pub fn new(stream: UnixStream, sync: Option<File>) -> Self {
        Channel {
            stream: Some(stream),
            sync,
            counter: 0,
        }
    }

    /// Marks the current point of the program's output; returns the marker's number, or 0 when
    /// nobody reads the terminal.
    pub fn mark(&mut self) -> u64 {
        let Some(sync) = self.sync.as_mut() else {
            return 0;
        };
        self.counter += 1;
        // A failed write only means the front end will wait for the marker a little and then
        // go on; the program must not be disturbed for it.
        let _ = sync.write_all(&protocol::sync_marker(self.counter));
        self.counter
    }

    pub fn send(&mut self, msg: &AgentMessage) -> Result<(), ChannelError> {
        match self.stream.as_mut() {
            Some(stream) => protocol::send(stream, msg),
            None => Err(ChannelError::Io(std::io::ErrorKind::NotConnected.into())),
        }
    }

    /// Waits for the next request with the GIL released, so the program's other threads run.
    /// `None` when the front end has gone away.
    pub fn receive(&mut self, py: Python<'_>) -> Option<Request> {
        let stream = self.stream.as_mut()?;
        py.detach(move || protocol::receive::<_, Request>(stream).ok().flatten())
    }

    /// The first message, before Python exists.
    pub fn receive_blocking(&mut self) -> Result<Option<Request>, ChannelError> {
        match self.stream.as_mut() {
            Some(stream) => protocol::receive(stream),
            None => Ok(None),
        }
    }

    /// A checkpoint closes its copy of the channel: it must never read the live process's
    /// requests, and the front end must see the channel close when that process dies.
    pub fn close(&mut self) {
        self.stream = None;
    }

    /// A process spawned from a checkpoint talks to the front end on its own connection, and
    /// numbers its sync markers after the last one the front end has seen.
    pub fn reconnect(&mut self, stream: UnixStream, sync_base: u64) {
        self.stream = Some(stream);
        self.counter = sync_base;
    }

    /// The program's terminal (the duplicate used for markers), when there is one.
    pub fn terminal(&self) -> Option<&File> {
        self.sync.as_ref()
    }

    pub fn set_sync(&mut self, sync: Option<File>) {
        self.sync = sync;
    }
}
