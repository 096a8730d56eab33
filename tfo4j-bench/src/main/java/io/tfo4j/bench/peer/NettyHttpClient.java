package io.tfo4j.bench.peer;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * GET requests on Netty's epoll transport, each on a new connection with {@code Connection: close}.
 *
 * <p>With Fast Open, the channel has {@code EpollChannelOption.TCP_FASTOPEN_CONNECT} and the request is
 * written (not flushed) before {@code connect}: Netty then hands it to {@code sendto(MSG_FASTOPEN)}, so it
 * rides in the SYN once the kernel has the server's cookie. Without a cookie the kernel sends a SYN that
 * asks for one, and Netty writes the request after the handshake.
 *
 * <p>The time to first byte runs from the {@code connect} call (the request is already queued, so this is
 * when it leaves, in the SYN or right after the handshake) to the first bytes of the response arriving in
 * the channel, before any HTTP decoding.
 */
final class NettyHttpClient implements AutoCloseable {
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final long RESPONSE_TIMEOUT_SECONDS = 30;

    private final EventLoopGroup group = EpollTransport.newGroup(1);
    private final boolean fastOpen;

    /**
     * @param fastOpen whether to ask for Fast Open; it is used only where this namespace's
     *                 net.ipv4.tcp_fastopen has bit 1, see {@link #fastOpen()}
     */
    NettyHttpClient(boolean fastOpen) {
        this.fastOpen = fastOpen && Epoll.isTcpFastOpenClientSideAvailable();
    }

    /** Whether connections offer the request in the SYN. */
    boolean fastOpen() {
        return fastOpen;
    }

    /** The event loops, for a warm-up server in the same process. */
    EventLoopGroup group() {
        return group;
    }

    /** One GET of {@code target} on a new connection. */
    Exchange get(HttpTarget target) throws IOException {
        CompletableFuture<Exchange> done = new CompletableFuture<>();
        ResponseHandler response = new ResponseHandler(done, fastOpen);
        FirstBytes firstBytes = new FirstBytes();
        Bootstrap bootstrap = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .option(EpollChannelOption.TCP_FASTOPEN_CONNECT, fastOpen)
                .handler(new ChannelInitializer<EpollSocketChannel>() {
                    @Override
                    protected void initChannel(EpollSocketChannel channel) {
                        channel.pipeline().addLast(firstBytes, new HttpClientCodec(), response);
                    }
                });
        Channel channel;
        try {
            channel = bootstrap.register().sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        channel.eventLoop().execute(() -> {
            // Written before connect, so that connect can put it in the SYN; flushed once connected in
            // case it did not go there.
            channel.write(request(target));
            firstBytes.connectNanos = System.nanoTime();
            channel.connect(target.address()).addListener(connected -> {
                if (connected.isSuccess()) {
                    channel.flush();
                } else {
                    done.completeExceptionally(connected.cause());
                    channel.close();
                }
            });
        });
        try {
            Exchange exchange = done.get(RESPONSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return new Exchange(exchange.status(), exchange.bytes(), firstBytes.firstNanos - firstBytes.connectNanos,
                    exchange.fastOpen(), exchange.synData(), exchange.localPort());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException(cause.toString(), cause);
        } catch (TimeoutException e) {
            throw new IOException("no complete response from " + target.uri() + " within " + RESPONSE_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            channel.close().syncUninterruptibly();
        }
    }

    private static FullHttpRequest request(HttpTarget target) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target.pathAndQuery());
        request.headers().set(HttpHeaderNames.HOST, target.hostHeader())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.USER_AGENT, "tfo4j-peer-netty");
        return request;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Notes when the connection was started and when its first bytes came in; first in the pipeline. */
    private static final class FirstBytes extends ChannelInboundHandlerAdapter {
        volatile long connectNanos;
        volatile long firstNanos;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (firstNanos == 0) {
                firstNanos = System.nanoTime();
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** Counts the response and, at its end, reads the connection's TCP_INFO while the socket is still open. */
    private static final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
        private final CompletableFuture<Exchange> done;
        private final boolean fastOpen;
        private int status;
        private long bytes;

        ResponseHandler(CompletableFuture<Exchange> done, boolean fastOpen) {
            this.done = done;
            this.fastOpen = fastOpen;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (!msg.decoderResult().isSuccess()) {
                fail(ctx, new IOException("bad response: " + msg.decoderResult().cause()));
                return;
            }
            if (msg instanceof HttpResponse response) {
                status = response.status().code();
            }
            if (msg instanceof HttpContent content) {
                bytes += content.content().readableBytes();
            }
            if (msg instanceof LastHttpContent) {
                EpollSocketChannel channel = (EpollSocketChannel) ctx.channel();
                boolean synData = (channel.tcpInfo().options() & EpollTransport.TCPI_OPT_SYN_DATA) != 0;
                int localPort = ((InetSocketAddress) channel.localAddress()).getPort();
                done.complete(new Exchange(status, bytes, 0, fastOpen, synData, localPort));
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(ctx, new IOException("the connection closed before the response ended"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, cause instanceof IOException io ? io : new IOException(cause.toString(), cause));
        }

        private void fail(ChannelHandlerContext ctx, IOException e) {
            done.completeExceptionally(e);
            ctx.close();
        }
    }
}
