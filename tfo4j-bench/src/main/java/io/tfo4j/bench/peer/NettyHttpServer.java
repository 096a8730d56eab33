package io.tfo4j.bench.peer;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An HTTP/1.1 server on Netty's epoll transport that answers every GET (and HEAD) with the same body,
 * with {@code EpollChannelOption.TCP_FASTOPEN} on its listener when asked. Keeps connections alive unless
 * the request says {@code Connection: close} (or is HTTP/1.0 without keep-alive); other methods get 405.
 */
final class NettyHttpServer implements AutoCloseable {
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Channel listener;
    private final boolean fastOpenActive;

    private NettyHttpServer(EventLoopGroup group, boolean ownGroup, Channel listener, boolean fastOpenActive) {
        this.group = group;
        this.ownGroup = ownGroup;
        this.listener = listener;
        this.fastOpenActive = fastOpenActive;
    }

    /**
     * Listens on {@code address}; {@code fastOpenQueue} 0 means no Fast Open. {@code accessLog}, when not
     * null, gets one map per request: connection number, remote address, request number on the
     * connection, method, URI, status, body bytes and whether the connection came with data in its SYN.
     * With {@code group} null the server makes its own event loop and shuts it down on {@link #close()}.
     */
    static NettyHttpServer start(EventLoopGroup group, InetSocketAddress address, int fastOpenQueue, byte[] body,
                                 Consumer<Map<String, Object>> accessLog) throws IOException {
        boolean ownGroup = group == null;
        EventLoopGroup loops = ownGroup ? EpollTransport.newGroup(1) : group;
        AtomicInteger connections = new AtomicInteger();
        ServerBootstrap bootstrap = new ServerBootstrap().group(loops).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<EpollSocketChannel>() {
                    @Override
                    protected void initChannel(EpollSocketChannel channel) {
                        channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new FixedBodyHandler(body, connections.incrementAndGet(), accessLog));
                    }
                });
        boolean fastOpen = fastOpenQueue > 0 && Epoll.isTcpFastOpenServerSideAvailable();
        if (fastOpen) {
            bootstrap.option(EpollChannelOption.TCP_FASTOPEN, fastOpenQueue);
        }
        try {
            Channel listener = bootstrap.bind(address).sync().channel();
            return new NettyHttpServer(loops, ownGroup, listener, fastOpen);
        } catch (Exception e) {
            if (ownGroup) {
                loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            }
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    /** The port listened on. */
    int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Whether the listener has Fast Open: it was asked for and this namespace's net.ipv4.tcp_fastopen has bit 2. */
    boolean fastOpenActive() {
        return fastOpenActive;
    }

    /** Waits until the listener is closed. */
    void join() throws InterruptedException {
        listener.closeFuture().sync();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        if (ownGroup) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Answers the requests of one connection. */
    private static final class FixedBodyHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final byte[] body;
        private final int connection;
        private final Consumer<Map<String, Object>> accessLog;
        private int requests;

        FixedBodyHandler(byte[] body, int connection, Consumer<Map<String, Object>> accessLog) {
            this.body = body;
            this.connection = connection;
            this.accessLog = accessLog;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            requests++;
            boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
            FullHttpResponse response = response(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            // Taken before the write: with Connection: close the channel may be closed when it returns.
            Map<String, Object> line = accessLog == null ? null : logLine(ctx, request, response);
            ctx.writeAndFlush(response).addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE
                    : ChannelFutureListener.CLOSE);
            // Logged after the answer is on its way, so the log does not delay it.
            if (line != null) {
                accessLog.accept(line);
            }
        }

        private FullHttpResponse response(FullHttpRequest request) {
            HttpVersion version = HttpVersion.HTTP_1_1;
            if (!request.decoderResult().isSuccess()) {
                return plain(version, HttpResponseStatus.BAD_REQUEST, "bad request\n");
            }
            HttpMethod method = request.method();
            if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
                FullHttpResponse response = plain(version, HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD\n");
                response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                return response;
            }
            FullHttpResponse response = new DefaultFullHttpResponse(version, HttpResponseStatus.OK,
                    method.equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            return response;
        }

        private static FullHttpResponse plain(HttpVersion version, HttpResponseStatus status, String text) {
            FullHttpResponse response = new DefaultFullHttpResponse(version, status,
                    Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            return response;
        }

        private Map<String, Object> logLine(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("connection", connection);
            InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
            line.put("remote", remote.getAddress().getHostAddress() + ":" + remote.getPort());
            line.put("request", requests);
            line.put("method", request.method().name());
            line.put("uri", request.uri());
            line.put("status", response.status().code());
            line.put("bytes", response.content().readableBytes());
            // The kernel sets TCPI_OPT_SYN_DATA on a passive Fast Open child whose SYN carried data.
            EpollSocketChannel channel = (EpollSocketChannel) ctx.channel();
            line.put("synData", (channel.tcpInfo().options() & EpollTransport.TCPI_OPT_SYN_DATA) != 0);
            return line;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
