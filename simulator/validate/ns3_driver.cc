// ns-3 side of uavtwin's cross-validation (simulator/validate): compiled at run time by
// cppyy after `from ns import ns` has loaded the ns-3 libraries and headers.
//
// RunTransfers: the backhaul graph as point-to-point links, host routes on given paths, one
// TCP BulkSend -> PacketSink per transfer; returns each transfer's completion time.
// SampleNs2: an ns-2 movement file through Ns2MobilityHelper, positions sampled at given times.
#include "ns3/core-module.h"
#include "ns3/network-module.h"
#include "ns3/internet-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/applications-module.h"
#include "ns3/traffic-control-module.h"
#include "ns3/mobility-module.h"
#include <map>
#include <vector>

namespace uavtwin_ns3
{
using namespace ns3;

struct SinkState
{
    uint64_t target;
    uint64_t got;
    double done;
};

static std::vector<SinkState>* g_sinks = nullptr;

static void
OnRx(uint32_t i, Ptr<const Packet> p, const Address&)
{
    SinkState& s = (*g_sinks)[i];
    s.got += p->GetSize();
    if (s.done < 0 && s.got >= s.target)
    {
        s.done = Simulator::Now().GetSeconds();
    }
}

// Links (la[k], lb[k]) of capBps[k] bit/s and delayS[k] s; transfers fsrc[i] -> fdst[i] of
// fbytes[i] bytes starting at fstart[i] s, addressed to fdst[i]'s address on its link to
// fdstNbr[i]; host routes: at rNode[k], traffic for rDst[k]'s address on its link to
// rDstNbr[k] goes to neighbour rNext[k]. Returns each transfer's completion time (s, when its sink holds every
// byte; -1 if unfinished at stopS), then the number of simulator events.
std::vector<double>
RunTransfers(uint32_t nNodes,
    const std::vector<uint32_t>& la,
    const std::vector<uint32_t>& lb,
    const std::vector<double>& capBps,
    const std::vector<double>& delayS,
    const std::vector<uint32_t>& fsrc,
    const std::vector<uint32_t>& fdst,
    const std::vector<uint32_t>& fdstNbr,
    const std::vector<double>& fstart,
    const std::vector<double>& fbytes,
    const std::vector<uint32_t>& rNode,
    const std::vector<uint32_t>& rDst,
    const std::vector<uint32_t>& rDstNbr,
    const std::vector<uint32_t>& rNext,
    const std::string& tcpType,
    uint32_t segmentSize,
    const std::vector<uint32_t>& queuePackets,
    uint32_t bufferBytes,
    bool sackOn,
    double minRtoS,
    double stopS)
{
    Config::SetDefault("ns3::TcpL4Protocol::SocketType", TypeIdValue(TypeId::LookupByName(tcpType)));
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(sackOn));
    Config::SetDefault("ns3::TcpSocketBase::MinRto", TimeValue(Seconds(minRtoS)));
    // never give up on a connection (the fluid model has no aborts)
    Config::SetDefault("ns3::TcpSocket::DataRetries", UintegerValue(1000));
    Config::SetDefault("ns3::TcpSocket::ConnCount", UintegerValue(1000));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(segmentSize));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(bufferBytes));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(bufferBytes));

    NodeContainer nodes;
    nodes.Create(nNodes);
    Ipv4StaticRoutingHelper staticRouting;
    InternetStackHelper stack;
    stack.SetRoutingHelper(staticRouting);
    stack.Install(nodes);

    PointToPointHelper p2p;
    Ipv4AddressHelper addr("10.0.0.0", "255.255.255.252");
    TrafficControlHelper tch;
    // (node, neighbour) -> (interface index on node, address of neighbour on that link)
    std::map<std::pair<uint32_t, uint32_t>, std::pair<uint32_t, Ipv4Address>> iface;
    for (size_t k = 0; k < la.size(); ++k)
    {
        p2p.SetDeviceAttribute("DataRate", DataRateValue(DataRate(static_cast<uint64_t>(capBps[k]))));
        p2p.SetChannelAttribute("Delay", TimeValue(Seconds(delayS[k])));
        p2p.SetQueue("ns3::DropTailQueue<Packet>",
                     "MaxSize",
                     QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, queuePackets[k])));
        NetDeviceContainer d = p2p.Install(nodes.Get(la[k]), nodes.Get(lb[k]));
        Ipv4InterfaceContainer ifs = addr.Assign(d);
        addr.NewNetwork();
        tch.Uninstall(d);
        iface[{la[k], lb[k]}] = {ifs.Get(0).second, ifs.GetAddress(1)};
        iface[{lb[k], la[k]}] = {ifs.Get(1).second, ifs.GetAddress(0)};
    }
    // a node's address on its link to a neighbour
    auto addressOf = [&iface](uint32_t node, uint32_t neighbour) {
        return iface.at({neighbour, node}).second;
    };
    for (size_t k = 0; k < rNode.size(); ++k)
    {
        auto it = iface.at({rNode[k], rNext[k]});
        Ptr<Ipv4StaticRouting> r = staticRouting.GetStaticRouting(nodes.Get(rNode[k])->GetObject<Ipv4>());
        r->AddHostRouteTo(addressOf(rDst[k], rDstNbr[k]), it.second, it.first);
    }

    std::vector<SinkState> sinks(fsrc.size());
    g_sinks = &sinks;
    for (size_t i = 0; i < fsrc.size(); ++i)
    {
        uint16_t port = static_cast<uint16_t>(10000 + i);
        sinks[i] = {static_cast<uint64_t>(fbytes[i]), 0, -1.0};
        PacketSinkHelper sinkHelper("ns3::TcpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
        ApplicationContainer sa = sinkHelper.Install(nodes.Get(fdst[i]));
        sa.Start(Seconds(0.0));
        sa.Get(0)->TraceConnectWithoutContext("Rx", MakeBoundCallback(&OnRx, static_cast<uint32_t>(i)));
        // the sink's address is the destination's address on the last link of the route; the
        // sender's own address is the one of its outgoing link (chosen by ns-3)
        BulkSendHelper bulk("ns3::TcpSocketFactory",
                            InetSocketAddress(addressOf(fdst[i], fdstNbr[i]), port));
        bulk.SetAttribute("MaxBytes", UintegerValue(static_cast<uint64_t>(fbytes[i])));
        bulk.SetAttribute("SendSize", UintegerValue(segmentSize * 16));
        ApplicationContainer ba = bulk.Install(nodes.Get(fsrc[i]));
        ba.Start(Seconds(fstart[i]));
    }
    Simulator::Stop(Seconds(stopS));
    Simulator::Run();
    std::vector<double> out;
    for (auto& s : sinks) out.push_back(s.done);
    for (auto& s : sinks) out.push_back(static_cast<double>(s.got));
    out.push_back(static_cast<double>(Simulator::GetEventCount()));
    Simulator::Destroy();
    g_sinks = nullptr;
    return out;
}
static void
Record(NodeContainer* nodes, std::vector<double>* out)
{
    out->push_back(Simulator::Now().GetSeconds());
    for (uint32_t i = 0; i < nodes->GetN(); ++i)
    {
        Vector p = nodes->Get(i)->GetObject<MobilityModel>()->GetPosition();
        out->push_back(p.x);
        out->push_back(p.y);
        out->push_back(p.z);
    }
}

// Loads `path` for nNodes nodes with Ns2MobilityHelper and samples every node at each of
// `times` (ascending, s). Returns per sample: the exact simulator time, then x, y, z of each
// node.
std::vector<double>
SampleNs2(const std::string& path, uint32_t nNodes, const std::vector<double>& times)
{
    NodeContainer nodes;
    nodes.Create(nNodes);
    Ns2MobilityHelper ns2(path);
    ns2.Install(nodes.Begin(), nodes.End());
    std::vector<double> out;
    out.reserve(times.size() * (1 + 3 * nNodes));
    for (double t : times)
    {
        Simulator::Schedule(Seconds(t), &Record, &nodes, &out);
    }
    Simulator::Run();
    Simulator::Destroy();
    return out;
}
} // namespace uavtwin_ns3
