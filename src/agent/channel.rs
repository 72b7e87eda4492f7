//! The agent's end of the control channel, and the sync markers it writes into the terminal.

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixStream;

use pyo3::Python;

use crate::protocol::{self, AgentMessage, ChannelError, Request};

pub struct Channel {
    stream: UnixStream,
    /// A private duplicate of the program's terminal, for sync markers: it stays valid even if
    /// the program closes or redirects its own stdout.
    sync: Option<File>,
    counter: u64,
}

impl Channel {
    pub fn new(stream: UnixStream, sync: Option<File>) -> Self {
        Channel {
            stream,
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
        protocol::send(&mut self.stream, msg)
    }

    /// Waits for the next request with the GIL released, so the program's other threads run.
    /// `None` when the front end has gone away.
    pub fn receive(&mut self, py: Python<'_>) -> Option<Request> {
        let stream = &mut self.stream;
        py.detach(move || protocol::receive::<_, Request>(stream).ok().flatten())
    }

    /// The first message, before Python exists.
    pub fn receive_blocking(&mut self) -> Result<Option<Request>, ChannelError> {
        protocol::receive(&mut self.stream)
    }

    pub fn set_sync(&mut self, sync: Option<File>) {
        self.sync = sync;
    }
}
