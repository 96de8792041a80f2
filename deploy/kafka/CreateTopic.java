// Creates a Kafka topic with the AdminClient that ships in kafka-clients (already in lib/).
// Run as a single source file (Java 11+), no build step:
//   java -cp 'lib/*' CreateTopic.java BOOTSTRAP NAME PARTITIONS [REPLICATION] [key=value ...]
// Idempotent: an existing topic is fine (a different partition count is reported on stderr).
// Waits until every partition of the topic has a leader, so producers can use it at once.
// Exit codes: 0 created or already there, 1 failure, 2 usage.

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

public class CreateTopic {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: CreateTopic BOOTSTRAP NAME PARTITIONS [REPLICATION] [key=value ...]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String name = args[1];
        int partitions = Integer.parseInt(args[2]);
        short replication = 1;
        Map<String, String> configs = new HashMap<>();
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq > 0) {
                configs.put(args[i].substring(0, eq), args[i].substring(eq + 1));
            } else {
                replication = Short.parseShort(args[i]);
            }
        }

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "outcomes-create-topic");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");

        try {
            run(props, name, partitions, replication, configs);
        } catch (TimeoutException e) {
            System.err.println("create topic " + name + ": no answer from " + bootstrap + " within 30 s");
            System.exit(1);
        }
    }

    private static void run(Properties props, String name, int partitions, short replication,
                            Map<String, String> configs) throws Exception {
        try (Admin admin = Admin.create(props)) {
            NewTopic topic = new NewTopic(name, partitions, replication).configs(configs);
            try {
                admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
                System.out.println("created topic " + name + " partitions=" + partitions);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    System.out.println("topic " + name + " already exists");
                } else {
                    System.err.println("create topic " + name + " failed: " + e.getCause());
                    System.exit(1);
                }
            }

            // Wait (bounded) until the topic is visible with a leader for every partition.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String last = "not described yet";
            while (true) {
                try {
                    TopicDescription d = admin.describeTopics(List.of(name))
                            .allTopicNames().get(10, TimeUnit.SECONDS).get(name);
                    List<Integer> leaderless = new ArrayList<>();
                    for (TopicPartitionInfo p : d.partitions()) {
                        if (p.leader() == null || p.leader().isEmpty()) {
                            leaderless.add(p.partition());
                        }
                    }
                    if (leaderless.isEmpty()) {
                        if (d.partitions().size() != partitions) {
                            System.err.println("warning: topic " + name + " has "
                                    + d.partitions().size() + " partitions, not " + partitions);
                        }
                        return;
                    }
                    last = "partitions without leader: " + leaderless;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                    last = e.getCause().toString();
                }
                if (System.nanoTime() > deadline) {
                    System.err.println("topic " + name + " not ready after 30 s: " + last);
                    System.exit(1);
                }
                Thread.sleep(100);
            }
        }
    }
}
