#pragma once

// Internal to the Beast translation units (http_server.cpp, websocket_session.cpp).

#include <memory>
#include <string>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace hostpulse {

class StreamService;
class AccessControl;

// Takes over an upgraded connection: checks access, accepts the WebSocket
// handshake and runs the session until it closes.
void start_websocket_session(boost::beast::tcp_stream&& stream,
                             boost::beast::http::request<boost::beast::http::string_body>&& request,
                             std::shared_ptr<StreamService> service, std::shared_ptr<const AccessControl> access,
                             std::string remote_address);

}  // namespace hostpulse
